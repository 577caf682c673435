"""API: contact forms (R5) with their escorts of record and approvals per department,
department heads, and safety education (R6-R9)."""

from __future__ import annotations

from web.api import models as m
from web.api.present import form_out, person_ref
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from zones import services
from zones.errors import NotFound, Problem
from zones.services._common import employee
from zones.services.education import EDUCATION_TOPICS


def _actor_id() -> int:
    actor = current_actor()
    assert actor is not None  # require() ran
    return actor.id


@api_route(
    "POST",
    "/contact-forms",
    permission="forms.write",
    body=m.ContactFormIn,
    response=m.ContactFormOut,
    status=201,
    errors=(404,),
)
def create_form(body: m.ContactFormIn) -> m.ContactFormOut:
    """A pending visitor entry contact form for one or more zones (R5), naming its escorts
    of record (R10) and the permissions it grants (R13)."""
    form = services.create_contact_form(
        db_session(),
        visitor_id=body.visitor_id,
        zones=body.zones,
        escort_ids=body.escort_ids,
        escort_id=body.escort_id,
        permissions=body.permissions,
        purpose=body.purpose,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        outside_hours=body.outside_hours,
        created_by=_actor_id(),
        known_zones=sitegate().zones,
    )
    return form_out(form)


@api_route(
    "POST", "/contact-forms/<int:form_id>/approve", permission="forms.approve", response=m.ContactFormOut, errors=(409,)
)
def approve_form(form_id: int) -> m.ContactFormOut:
    """Approve a form for each of its departments the caller heads or is safety officer of;
    approved once no department is pending; 403 when the caller may approve for none (R5)."""
    return form_out(services.approve_contact_form(db_session(), form_id, _actor_id(), sitegate().zones))


@api_route(
    "POST",
    "/contact-forms/<int:form_id>/revoke",
    permission="forms.approve",
    body=m.RevokeIn,
    response=m.ContactFormOut,
    errors=(404, 409),
)
def revoke_form(form_id: int, body: m.RevokeIn) -> m.ContactFormOut:
    """Revoke a form; 403 unless the caller may approve for one of its departments or is an
    admin (R5)."""
    return form_out(
        services.revoke_contact_form(db_session(), form_id, _actor_id(), body.reason, zones=sitegate().zones)
    )


@api_route(
    "POST",
    "/departments/<department>/head",
    permission="departments.write",
    body=m.DepartmentHeadIn,
    response=m.DepartmentHeadOut,
    errors=(404,),
)
def department_head(department: str, body: m.DepartmentHeadIn) -> m.DepartmentHeadOut:
    """Name the head of a department (R5: they approve its contact forms); admin only."""
    if department not in services.known_departments(sitegate().config):
        raise NotFound(Problem("unknown-department", department=department))
    session = db_session()
    services.set_department_head(session, department, body.employee_id)
    head = person_ref(employee(session, body.employee_id))
    assert head is not None
    return m.DepartmentHeadOut(department=department, head=head)


@api_route("GET", "/education/topics", permission="education.write", response=m.TopicOut, many=True)
def education_topics() -> list[m.TopicOut]:
    """The fixed list of education topics (R6); every record covers all of them."""
    return [m.TopicOut(code=code, label=label) for code, label in EDUCATION_TOPICS.items()]


@api_route(
    "POST",
    "/education",
    permission="education.write",
    body=m.EducationIn,
    response=m.EducationOut,
    status=201,
    errors=(404,),
)
def record_education(body: m.EducationIn) -> m.EducationOut:
    """Record safety education (R6) given by the caller, with the visitor's signature on the
    notification card (R7) naming the zones whose hazards were told (R9); 422 naming the
    field for a date in the future or too old, a missing or unknown topic, no signature, or
    an educator outside the department. ``notification_signed`` is derived."""
    site = sitegate()
    edu = services.record_education(
        db_session(),
        visitor_id=body.visitor_id,
        department=body.department,
        method=body.method,
        topics=body.topics,
        delivered_at=body.delivered_at,
        educator_id=_actor_id(),
        signature=body.signature,
        zones=body.zones,
        known_zones=site.zones,
        valid_months=site.policy.education_valid_months,
        retention_months=site.policy.notification_retention_months,
        record_delay_days=site.config.rules.education_record_delay_days,
        safety_department=site.policy.safety_department,
        dispatch_department=site.policy.dispatch_department,
        timezone=site.policy.timezone,
    )
    return m.EducationOut.model_validate(edu)
