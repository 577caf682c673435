"""API: contact forms (R5) and safety education (R6-R8)."""

from __future__ import annotations

from web.api import models as m
from web.api.present import form_out
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from zones import services


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
    """A pending visitor entry contact form for one or more zones (R5)."""
    form = services.create_contact_form(
        db_session(),
        visitor_id=body.visitor_id,
        zones=body.zones,
        escort_id=body.escort_id,
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
    """Approve a form; 403 unless the caller heads, or is safety officer of, each zone's department (R5)."""
    return form_out(services.approve_contact_form(db_session(), form_id, _actor_id(), sitegate().zones))


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
    """Record safety education (R6) and the education card's validity (R8); a signed
    notification card (R7) is kept for the retention period."""
    site = sitegate()
    edu = services.record_education(
        db_session(),
        visitor_id=body.visitor_id,
        department=body.department,
        method=body.method,
        topics=body.topics,
        delivered_at=body.delivered_at,
        educator_id=_actor_id(),
        notification_signed=body.notification_signed,
        signature=body.signature,
        valid_months=site.policy.education_valid_months,
        retention_months=site.policy.notification_retention_months,
        timezone=site.policy.timezone,
    )
    return m.EducationOut.model_validate(edu)
