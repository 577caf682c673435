"""Things handed to a visitor and back: badges (R3) and helmets (R12)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zones.errors import Conflict, NotFound, Problem, ValidationFailed
from zones.schema import Badge, Employee, Helmet, Visit, Visitor
from zones.services._common import get_or_404, normalise_card, record_change, utcnow


def issue_badge(session: Session, visit_id: int, card: str, *, now: datetime | None = None) -> Badge:
    """R3: hand a badge (card) to the visitor of an open visit. Conflict when the card is
    already active (on a badge or an employee) or the visitor already holds an active badge."""
    card = normalise_card(card)
    visit = get_or_404(session, Visit, visit_id, "visit")
    if visit.state == "closed":
        raise Conflict(Problem("visit-closed"), [f"visit {visit.id}"])
    if session.scalar(select(Employee.id).where(Employee.card == card)) is not None:
        raise Conflict(Problem("employee-card", card=card), [f"card {card}"])
    held = session.scalar(select(Badge.card).where(Badge.card == card, Badge.state == "active"))
    if held is not None:
        raise Conflict(Problem("card-issued", card=card), [f"card {card}"])
    mine = session.scalar(select(Badge.card).where(Badge.visitor_id == visit.visitor_id, Badge.state == "active"))
    if mine is not None:
        raise Conflict(Problem("holds-badge", card=mine), [f"badge {mine}"])
    badge = Badge(card=card, visitor_id=visit.visitor_id, visit_id=visit.id, state="active", issued_at=now or utcnow())
    session.add(badge)
    record_change(session, visit.visitor_id, "badge")
    try:
        session.commit()
    except IntegrityError as err:  # a concurrent issue of the same card won the race
        session.rollback()
        raise Conflict(Problem("card-issued", card=card), [f"card {card}"]) from err
    return badge


def _active_badge(session: Session, card: str) -> Badge:
    card = normalise_card(card)
    badge = session.scalar(select(Badge).where(Badge.card == card, Badge.state == "active"))
    if badge is None:
        raise NotFound(Problem("no-badge", card=card))
    return badge


def return_badge(session: Session, card: str, *, now: datetime | None = None) -> Badge:
    """R3: the badge is handed back at departure."""
    badge = _active_badge(session, card)
    badge.state = "returned"
    badge.returned_at = now or utcnow()
    record_change(session, badge.visitor_id, "badge")
    session.commit()
    return badge


def report_badge_lost(session: Session, card: str, *, now: datetime | None = None) -> Badge:
    """R3: a lost badge is blocked at every reader as soon as controllers refresh."""
    badge = _active_badge(session, card)
    badge.state = "lost"
    badge.lost_at = now or utcnow()
    record_change(session, badge.visitor_id, "badge")
    session.commit()
    return badge


def issue_helmet(session: Session, visitor_id: int, helmet_no: str, *, now: datetime | None = None) -> Helmet:
    """R12: issue a helmet at the safety office. Conflict when the helmet is out already or
    the visitor holds one."""
    helmet_no = helmet_no.strip()
    if not helmet_no:
        raise ValidationFailed([("helmet_no", Problem("empty"))])
    get_or_404(session, Visitor, visitor_id, "visitor")
    if session.scalar(select(Helmet.id).where(Helmet.helmet_no == helmet_no, Helmet.returned_at.is_(None))):
        raise Conflict(Problem("helmet-issued", no=helmet_no), [f"helmet {helmet_no}"])
    held = session.scalar(select(Helmet.helmet_no).where(Helmet.visitor_id == visitor_id, Helmet.returned_at.is_(None)))
    if held is not None:
        raise Conflict(Problem("holds-helmet", no=held), [f"helmet {held}"])
    visit_id = session.scalar(select(Visit.id).where(Visit.visitor_id == visitor_id, Visit.state != "closed"))
    helmet = Helmet(helmet_no=helmet_no, visitor_id=visitor_id, visit_id=visit_id, issued_at=now or utcnow())
    session.add(helmet)
    record_change(session, visitor_id, "helmet")
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        raise Conflict(Problem("helmet-issued", no=helmet_no), [f"helmet {helmet_no}"]) from err
    return helmet


def return_helmet(session: Session, visitor_id: int, helmet_no: str, *, now: datetime | None = None) -> Helmet:
    """R12: the helmet is handed back before leaving the site."""
    helmet = session.scalar(
        select(Helmet).where(
            Helmet.visitor_id == visitor_id, Helmet.helmet_no == helmet_no.strip(), Helmet.returned_at.is_(None)
        )
    )
    if helmet is None:
        raise NotFound(Problem("not-holding-helmet", visitor=visitor_id, no=helmet_no))
    helmet.returned_at = now or utcnow()
    record_change(session, visitor_id, "helmet")
    session.commit()
    return helmet
