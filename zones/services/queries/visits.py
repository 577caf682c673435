"""Queries about visits: the open ones (booked or on site), with what each visitor has out."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zones.schema import Badge, Helmet, Visit, Visitor
from zones.services.queries.people import names
from zones.services.queries.visitors import own_visitor


@dataclass
class VisitRow:
    visit: Visit
    visitor: Visitor
    host: str
    badge: str | None  # the active badge's card
    helmet: str | None  # the helmet out (R12)


def open_visits(session: Session, *, own_visitors_of: int | None = None, limit: int = 200) -> list[VisitRow]:
    """Visits booked or on site with their visitor, host, active badge and helmet out;
    newest first. ``own_visitors_of`` (an employee id) keeps only that employee's own
    visitors."""
    q = (
        select(Visit, Visitor)
        .join(Visitor, Visitor.id == Visit.visitor_id)
        .where(Visit.state != "closed")
        .order_by(Visit.id.desc())
        .limit(limit)
    )
    if own_visitors_of is not None:
        q = q.where(own_visitor(Visit.visitor_id, own_visitors_of))
    rows = session.execute(q).all()
    vids = [v.id for _, v in rows]
    badges = dict(
        session.execute(
            select(Badge.visitor_id, Badge.card).where(Badge.visitor_id.in_(vids), Badge.state == "active")
        ).all()
    )
    helmets = dict(
        session.execute(
            select(Helmet.visitor_id, Helmet.helmet_no).where(Helmet.visitor_id.in_(vids), Helmet.returned_at.is_(None))
        ).all()
    )
    hosts = names(session, {visit.host_id for visit, _ in rows})
    return [
        VisitRow(visit, visitor, hosts.get(visit.host_id, ""), badges.get(visitor.id), helmets.get(visitor.id))
        for visit, visitor in rows
    ]


def count_open_visits(session: Session) -> int:
    """How many visits are booked or on site."""
    return int(session.scalar(select(func.count()).select_from(Visit).where(Visit.state != "closed")) or 0)


def open_visit_id(session: Session, visitor_id: int) -> int | None:
    """The visitor's open visit (booked or on site), the newest if several."""
    return session.scalar(
        select(Visit.id)
        .where(Visit.visitor_id == visitor_id, Visit.state != "closed")
        .order_by(Visit.id.desc())
        .limit(1)
    )
