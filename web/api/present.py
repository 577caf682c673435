"""Turning domain rows into API response models, with R20 masking in one place.

Every response that carries an identity or phone number is built here, so "masked unless
the caller is a safety officer" is decided once (web.permissions.can_see_identity).
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast, overload

from web.api import models as m
from web.api import site_models
from web.auth import current_actor
from web.context import sitegate
from web.i18n import site_names
from web.permissions import can_see_identity
from zones.calendar import age_on
from zones.facts import PersonFacts, PersonKind
from zones.idcard import mask
from zones.messages import render
from zones.schema import Person
from zones.services.forms import pending_departments


def sees_identity() -> bool:
    actor = current_actor()
    return actor is not None and can_see_identity(actor.role)


@overload
def person_ref(person: Person) -> m.PersonRef: ...
@overload
def person_ref(person: Person | None) -> m.PersonRef | None: ...
def person_ref(person: Person | None) -> m.PersonRef | None:
    """A person row (visitor or employee) as the API names it; None stays None."""
    if person is None:
        return None
    return m.PersonRef(id=person.id, name=person.name, kind=cast(PersonKind, person.kind))


def facts_ref(facts: PersonFacts | None) -> m.PersonRef | None:
    """The person a zone check found for a card (zones.facts.PersonFacts)."""
    if facts is None:
        return None
    return m.PersonRef(id=facts.person_id, name=facts.name, kind=facts.kind)


def employee_out(emp: Any) -> m.EmployeeOut:
    return m.EmployeeOut(
        id=emp.id,
        name=emp.name,
        role=emp.role,
        department=emp.department,
        card=emp.card,
        escort_zones=list(emp.escort_zone_ids),
    )


def visitor_fields(v: Any) -> dict[str, Any]:
    clear = sees_identity()
    return dict(
        id=v.id,
        name=v.name,
        organisation=v.organisation,
        birth_date=v.birth_date if clear else None,  # R20: the others see the age
        age=age_on(v.birth_date, date.today()) if v.birth_date else None,
        id_type=v.id_type,
        id_number_masked=mask(v.id_number),
        phone_masked=mask(v.phone) if v.phone else None,
        id_number=v.id_number if clear else None,
        phone=v.phone if clear else None,
    )


def visitor_out(v: Any) -> m.VisitorOut:
    return m.VisitorOut(**visitor_fields(v))


def form_out(f: Any) -> m.ContactFormOut:
    """A contact form with its escorts of record, its approvals per department and the
    departments still to approve (R5)."""
    return m.ContactFormOut(
        id=f.id,
        visitor_id=f.visitor_id,
        zones=list(f.zone_ids),
        escort_id=f.escort_id,
        escort_ids=[e.employee_id for e in f.escorts],
        permissions=list(f.permissions or []),
        approvals=[m.ApprovalOut(department=a.department, approved_by=a.approved_by, at=a.at) for a in f.approvals],
        pending_departments=pending_departments(f, sitegate().zones),
        purpose=f.purpose,
        valid_from=f.valid_from,
        valid_until=f.valid_until,
        outside_hours=f.outside_hours,
        state=f.state,
        approved_by=f.approved_by,
        approved_at=f.approved_at,
    )


def reason_out(r: Any) -> site_models.ReasonOut:
    """A zones.facts.Reason (engine) as the API's reason: rule + English message, with zones
    and departments by their names as the pages say them, plus the code and params the
    pages use to say it in another language."""
    message = render(r, "en", site_names())
    return site_models.ReasonOut(rule=r.rule, message=message, code=r.code, params=dict(r.params))
