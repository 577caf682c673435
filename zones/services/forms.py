"""Visitor entry contact forms (R5): created pending, approved only by the head or a safety
officer of the department owning every zone on the form, revocable at any time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.errors import Conflict, NotAllowed, Problem, ValidationFailed
from zones.facts import Zone
from zones.schema import ContactForm, ContactFormEscort, ContactFormZone, Department, Employee, Visitor
from zones.services._common import aware, check_zone_ids, employee, get_or_404, record_change, utcnow


def create_contact_form(
    session: Session,
    *,
    visitor_id: int,
    zones: list[str],
    escort_id: int,
    purpose: str,
    valid_from: datetime,
    valid_until: datetime,
    outside_hours: bool = False,
    created_by: int | None = None,
    known_zones: dict[str, Zone] | None = None,
    now: datetime | None = None,
) -> ContactForm:
    """A pending contact form for ``zones`` (ids). The escort must be an employee authorised
    to escort in each zone (R10). ``known_zones`` (config) makes unknown zones an error."""
    get_or_404(session, Visitor, visitor_id, "visitor")
    problems: list[tuple[str, str]] = []
    if not zones:
        problems.append(("zones", Problem("no-zones")))
    if not purpose.strip():
        problems.append(("purpose", Problem("empty-r5")))
    valid_from = aware(valid_from, "valid_from")
    valid_until = aware(valid_until, "valid_until")
    if valid_until <= valid_from:
        problems.append(("valid_until", Problem("after-valid-from")))
    if problems:
        raise ValidationFailed(problems)
    zone_ids = check_zone_ids(list(zones), "zones", known_zones)
    escort = session.get(Employee, escort_id)
    if escort is None or not escort.active:
        raise ValidationFailed([("escort_id", Problem("no-such-active", what="employee", id=escort_id))])
    missing = [z for z in zone_ids if z not in escort.escort_zone_ids]
    if missing:
        raise ValidationFailed([("escort_id", Problem("may-not-escort", escort=escort.name, zones=", ".join(missing)))])
    if created_by is not None:
        employee(session, created_by, "creator")
    form = ContactForm(
        visitor_id=visitor_id,
        escort_id=escort_id,
        purpose=purpose.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        outside_hours=outside_hours,
        state="pending",
        created_by=created_by,
        created_at=now or utcnow(),
        zones=[ContactFormZone(zone=z) for z in zone_ids],
        escorts=[ContactFormEscort(employee_id=escort_id)],
    )
    session.add(form)
    session.commit()  # pending forms do not change any decision: no change row
    return form


def may_approve(session: Session, approver: Employee, department: str) -> bool:
    """R5: the department's head, or a safety officer of that department."""
    if approver.role == "safety_officer" and approver.department == department:
        return True
    head = session.scalar(select(Department.head_id).where(Department.name == department))
    return head is not None and head == approver.id


def approve_contact_form(
    session: Session,
    form_id: int,
    approver_id: int,
    zones: dict[str, Zone],
    *,
    now: datetime | None = None,
) -> ContactForm:
    """Approve a pending form. NotAllowed unless the approver heads, or is a safety officer
    of, the department owning each zone on the form (R5); ``zones`` is the config's zone map."""
    form = get_or_404(session, ContactForm, form_id, "contact form")
    approver = employee(session, approver_id, "approver")
    if form.state != "pending":
        raise Conflict(Problem("form-not-pending", state=form.state), [f"form {form.id}"])
    unknown = [z for z in form.zone_ids if z not in zones]
    if unknown:
        raise ValidationFailed([("zones", Problem("unknown-zone", zone=z)) for z in unknown])
    refused = [z for z in form.zone_ids if not may_approve(session, approver, zones[z].department)]
    if refused:
        depts = sorted({zones[z].department for z in refused})
        raise NotAllowed(Problem("approver", departments=", ".join(depts), zones=", ".join(refused)))
    form.state = "approved"
    form.approved_by = approver.id
    form.approved_at = now or utcnow()
    record_change(session, form.visitor_id, "form")
    session.commit()
    return form


def revoke_contact_form(
    session: Session,
    form_id: int,
    by: int,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> ContactForm:
    """Revoke a pending or approved form; the gates stop honouring it at their next refresh."""
    form = get_or_404(session, ContactForm, form_id, "contact form")
    who = employee(session, by)
    if form.state == "revoked":
        raise Conflict(Problem("form-revoked"), [f"form {form.id}"])
    form.state = "revoked"
    form.revoked_by = who.id
    form.revoked_at = now or utcnow()
    form.revoke_reason = reason.strip() or None
    record_change(session, form.visitor_id, "form")
    session.commit()
    return form
