"""Queries about safety education: one education card (R8) and the cards ending soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.schema import ContactForm, Education, NotificationCard, Visit, Visitor
from zones.services._common import get_or_404
from zones.services.queries.people import names
from zones.services.queries.visitors import own_visitor


def education_with_card(session: Session, education_id: int) -> tuple[Education, Visitor, NotificationCard | None, str]:
    """An education record, its visitor, signed notification card (R7, if any) and the
    educator's name, for the education card (R8); NotFound for an unknown id."""
    edu = get_or_404(session, Education, education_id, "education record")
    visitor = session.get(Visitor, edu.visitor_id)
    assert visitor is not None  # foreign key
    card = session.scalar(select(NotificationCard).where(NotificationCard.education_id == edu.id))
    return edu, visitor, card, names(session, {edu.educator_id}).get(edu.educator_id, "")


@dataclass
class ExpiringRow:
    visitor: Visitor
    education: Education
    escorts: list[str]
    host: str | None


def expiring_education(
    session: Session, today: date, days: int = 14, *, own_visitors_of: int | None = None
) -> list[ExpiringRow]:
    """The newest education card per visitor and department ending within ``days`` days of
    ``today`` (inclusive), with the visitor's escorts (forms not revoked) and host (open or
    last visit), soonest first. A visitor re-educated since is not listed.
    ``own_visitors_of`` (an employee id) keeps only that employee's own visitors."""
    q = select(Education).where(Education.valid_until >= today).order_by(Education.valid_until)
    if own_visitors_of is not None:
        q = q.where(own_visitor(Education.visitor_id, own_visitors_of))
    latest: dict[tuple[int, str], Education] = {}
    for e in session.scalars(q):
        latest[(e.visitor_id, e.department)] = e  # ordered: the last one wins
    soon = [e for e in latest.values() if e.valid_until <= today + timedelta(days=days)]
    if not soon:
        return []
    vids = {e.visitor_id for e in soon}
    visitors = {v.id: v for v in session.scalars(select(Visitor).where(Visitor.id.in_(vids)))}
    escort_of: dict[int, set[int]] = {}
    for f in session.scalars(
        select(ContactForm).where(ContactForm.visitor_id.in_(vids), ContactForm.state != "revoked")
    ):
        if f.escort_id:
            escort_of.setdefault(f.visitor_id, set()).add(f.escort_id)
    host_of: dict[int, int] = {}
    for v in session.scalars(select(Visit).where(Visit.visitor_id.in_(vids)).order_by(Visit.id)):
        host_of[v.visitor_id] = v.host_id
    who = names(session, set(host_of.values()) | {i for s in escort_of.values() for i in s})
    return [
        ExpiringRow(
            visitors[e.visitor_id],
            e,
            sorted(who.get(i, "") for i in escort_of.get(e.visitor_id, ())),
            who.get(host_of.get(e.visitor_id, -1)),
        )
        for e in sorted(soon, key=lambda e: (e.valid_until, e.visitor_id))
    ]
