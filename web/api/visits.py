"""API: visits (R1 booking, R2 check-in, R4 check-out), badges (R3) and helmets (R12)."""

from __future__ import annotations

from web.api import models as m
from web.api.registry import api_route
from web.context import db_session
from zones import services


@api_route(
    "POST", "/visits", permission="visits.write", body=m.VisitIn, response=m.VisitOut, status=201, errors=(404, 409)
)
def book_visit(body: m.VisitIn) -> m.VisitOut:
    """Book a visit (R1): visitor, host, purpose, expected arrival."""
    visit = services.book_visit(
        db_session(),
        visitor_id=body.visitor_id,
        host_id=body.host_id,
        purpose=body.purpose,
        expected_at=body.expected_at,
    )
    return m.VisitOut.model_validate(visit)


@api_route(
    "POST",
    "/visits/<int:visit_id>/check-in",
    permission="visits.write",
    body=m.CheckInIn,
    response=m.VisitOut,
    errors=(409,),
)
def check_in(visit_id: int, body: m.CheckInIn) -> m.VisitOut:
    """Check the visitor in (R2): the identity number shown must match the registered one."""
    return m.VisitOut.model_validate(services.check_in(db_session(), visit_id, body.id_number))


@api_route("POST", "/visits/<int:visit_id>/check-out", permission="visits.write", response=m.VisitOut, errors=(409,))
def check_out(visit_id: int) -> m.VisitOut:
    """Close the visit (R4); 409 listing what is still out (badge, helmet: R12)."""
    return m.VisitOut.model_validate(services.check_out(db_session(), visit_id))


@api_route(
    "POST",
    "/visits/<int:visit_id>/badge",
    permission="badges.write",
    body=m.BadgeIn,
    response=m.BadgeOut,
    status=201,
    errors=(409,),
)
def issue_badge(visit_id: int, body: m.BadgeIn) -> m.BadgeOut:
    """Issue a badge (R3); 409 if the card or the visitor already has an active badge."""
    return m.BadgeOut.model_validate(services.issue_badge(db_session(), visit_id, body.card))


@api_route("POST", "/badges/<card>/return", permission="badges.write", response=m.BadgeOut)
def return_badge(card: str) -> m.BadgeOut:
    """The badge is handed back (R3)."""
    return m.BadgeOut.model_validate(services.return_badge(db_session(), card))


@api_route("POST", "/badges/<card>/lost", permission="badges.write", response=m.BadgeOut)
def badge_lost(card: str) -> m.BadgeOut:
    """The badge is reported lost: blocked at every reader at the next refresh (R3)."""
    return m.BadgeOut.model_validate(services.report_badge_lost(db_session(), card))


@api_route(
    "POST", "/helmets/issue", permission="helmets.write", body=m.HelmetIn, response=m.HelmetOut, errors=(404, 409)
)
def issue_helmet(body: m.HelmetIn) -> m.HelmetOut:
    """Issue a safety helmet (R12)."""
    return m.HelmetOut.model_validate(services.issue_helmet(db_session(), body.visitor_id, body.helmet_no))


@api_route("POST", "/helmets/return", permission="helmets.write", body=m.HelmetIn, response=m.HelmetOut, errors=(404,))
def return_helmet(body: m.HelmetIn) -> m.HelmetOut:
    """The helmet is handed back before leaving the site (R12)."""
    return m.HelmetOut.model_validate(services.return_helmet(db_session(), body.visitor_id, body.helmet_no))
