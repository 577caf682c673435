"""Visits: booking (R1), walk-in exceptions (R1), check-in with identity (R2), check-out
refused while a badge or helmet is still out (R4, R12), overdue flags (R4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.errors import Conflict, Problem, ValidationFailed
from zones.schema import Badge, Ban, Helmet, Visit, Visitor
from zones.services._common import aware, employee, get_or_404, record_change, require_role, utcnow
from zones.services.people import normalise_id_number


def book_visit(
    session: Session,
    *,
    visitor_id: int,
    host_id: int,
    purpose: str,
    expected_at: datetime | None = None,
    booked_ahead: bool = True,
    now: datetime | None = None,
) -> Visit:
    """Book a visit (R1). ``booked_ahead=False`` records a walk-in, which needs a safety
    officer's exception (walk_in_exception) before the gates let the visitor in."""
    get_or_404(session, Visitor, visitor_id, "visitor")
    employee(session, host_id, "host")
    if not purpose.strip():
        raise ValidationFailed([("purpose", Problem("empty"))])
    open_visit = session.scalar(select(Visit.id).where(Visit.visitor_id == visitor_id, Visit.state != "closed"))
    if open_visit is not None:
        raise Conflict(Problem("open-visit", visit=open_visit), [f"visit {open_visit}"])
    visit = Visit(
        visitor_id=visitor_id,
        host_id=host_id,
        purpose=purpose.strip(),
        expected_at=aware(expected_at, "expected_at") if expected_at else None,
        state="booked",
        booked_ahead=booked_ahead,
        created_at=now or utcnow(),
    )
    session.add(visit)
    record_change(session, visitor_id, "visit")
    session.commit()
    return visit


def walk_in_exception(session: Session, visit_id: int, approver_id: int, reason: str) -> Visit:
    """R1: a safety officer lets a visitor without an appointment in, with a recorded reason.
    Commits."""
    visit = grant_walk_in(session, visit_id, approver_id, reason)
    session.commit()
    return visit


def grant_walk_in(session: Session, visit_id: int, approver_id: int, reason: str) -> Visit:
    """The walk-in exception of ``walk_in_exception``, not committed (for a caller that
    records it together with something else)."""
    visit = get_or_404(session, Visit, visit_id, "visit")
    approver = employee(session, approver_id, "approver")
    require_role(approver, ("safety_officer",), "a walk-in exception (R1)")
    if not reason.strip():
        raise ValidationFailed([("reason", Problem("walk-in-reason"))])
    if visit.state == "closed":
        raise Conflict(Problem("visit-closed"), [f"visit {visit.id}"])
    visit.walk_in_approved_by = approver.id
    visit.walk_in_reason = reason.strip()
    record_change(session, visit.visitor_id, "visit")
    return visit


def active_ban(session: Session, person_id: int, on: date) -> Ban | None:
    return session.scalars(
        select(Ban).where(Ban.person_id == person_id, Ban.until >= on).order_by(Ban.until.desc())
    ).first()


def check_in(session: Session, visit_id: int, id_number: str, *, now: datetime | None = None) -> Visit:
    """R2: the visitor arrives and shows the document registered for the visit. A number
    that does not match, a closed visit or an active ban (R17) is refused."""
    visit = get_or_404(session, Visit, visit_id, "visit")
    visitor = session.get(Visitor, visit.visitor_id)
    assert visitor is not None
    now = now or utcnow()
    if normalise_id_number(id_number) != visitor.id_number:
        raise ValidationFailed([("id_number", Problem("id-mismatch"))])
    if visit.state != "booked":
        raise Conflict(Problem("visit-not-booked", state=visit.state), [f"visit {visit.id}"])
    ban = active_ban(session, visitor.id, now.date())
    if ban is not None:
        raise Conflict(Problem("banned", date=ban.until.isoformat()), [f"ban until {ban.until}"])
    visit.state = "on-site"
    visit.arrived_at = now
    record_change(session, visitor.id, "visit")
    session.commit()
    return visit


def items_out(session: Session, visitor_id: int) -> list[Problem]:
    """What the visitor still holds: active badge, unreturned helmet (R3, R12)."""
    out = [
        Problem("badge", card=c)
        for c in session.scalars(select(Badge.card).where(Badge.visitor_id == visitor_id, Badge.state == "active"))
    ]
    out += [
        Problem("helmet", no=h)
        for h in session.scalars(
            select(Helmet.helmet_no).where(Helmet.visitor_id == visitor_id, Helmet.returned_at.is_(None))
        )
    ]
    return out


def check_out(session: Session, visit_id: int, *, now: datetime | None = None) -> Visit:
    """R4: close the visit. Refused with Conflict (``items`` = what is still out) while a
    badge or helmet has not been handed back; the visit is flagged instead (R12)."""
    visit = get_or_404(session, Visit, visit_id, "visit")
    if visit.state == "closed":
        raise Conflict(Problem("visit-already-closed"), [f"visit {visit.id}"])
    out = items_out(session, visit.visitor_id)
    if out:
        visit.flagged = "check-out refused, still out: " + ", ".join(out)
        session.commit()
        raise Conflict(Problem("still-out", items=", ".join(out)), out)
    _close(session, visit, now or utcnow())
    session.commit()
    return visit


def _close(session: Session, visit: Visit, now: datetime) -> None:
    visit.state = "closed"
    visit.closed_at = now
    visit.flagged = None
    record_change(session, visit.visitor_id, "visit")


def flag_overdue(
    session: Session,
    now: datetime,
    after_arrival: timedelta = timedelta(hours=12),
    *,
    site_closed_at: datetime | None = None,
    after_close: timedelta = timedelta(hours=2),
) -> list[Visit]:
    """R4: flag open visits whose visitor arrived more than ``after_arrival`` ago, and, when
    ``site_closed_at`` (the site's latest closing time before ``now``) is given, visits
    still open ``after_close`` after it that began before it."""
    visits = list(
        session.scalars(
            select(Visit).where(
                Visit.state == "on-site", Visit.arrived_at < now - after_arrival, Visit.flagged.is_(None)
            )
        )
    )
    for v in visits:
        v.flagged = f"overdue: on site since {v.arrived_at:%Y-%m-%d %H:%M} UTC (R4)"
    if site_closed_at is not None and now >= site_closed_at + after_close:
        late = list(
            session.scalars(
                select(Visit).where(
                    Visit.state == "on-site", Visit.arrived_at < site_closed_at, Visit.flagged.is_(None)
                )
            )
        )
        for v in late:
            v.flagged = f"overdue: still open {after_close} after the site closed (R4)"
        visits += late
    session.commit()
    return visits
