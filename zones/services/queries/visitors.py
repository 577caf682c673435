"""Queries about visitors: whose visitors an escort may see, searching, a visitor's full
record, and an escort's visitors on site now.

"Own visitors" (an escort's "my visitors") has one definition, ``own_visitor``, used by
the pages and the API alike: the visitors an employee escorts on a contact form that is
not revoked, or hosts on a visit (web.permissions.own_visitors_only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from zones.schema import (
    Badge,
    Ban,
    Breach,
    ContactForm,
    ContactFormEscort,
    Education,
    Helmet,
    NotificationCard,
    Presence,
    Visit,
    Visitor,
)
from zones.services._common import get_or_404
from zones.services.people import normalise_id_number
from zones.services.queries.people import names


def own_visitor(visitor_id: InstrumentedAttribute[int], employee_id: int) -> ColumnElement[bool]:
    """SQL condition: the visitor in column ``visitor_id`` is one of the employee's own
    visitors (named escort on a form that is not revoked, or host of one of their visits)."""
    # correlate(None): the subqueries stand alone even when the outer query reads the same table
    on_forms = (
        select(ContactForm.visitor_id)
        .join(ContactFormEscort, ContactFormEscort.form_id == ContactForm.id)
        .where(ContactFormEscort.employee_id == employee_id, ContactForm.state != "revoked")
        .correlate(None)
    )
    hosted = select(Visit.visitor_id).where(Visit.host_id == employee_id).correlate(None)
    return or_(visitor_id.in_(on_forms), visitor_id.in_(hosted))


def is_own_visitor(session: Session, employee_id: int, visitor_id: int) -> bool:
    """Whether the visitor is one of the employee's own visitors (``own_visitor``)."""
    return (
        session.scalar(select(Visitor.id).where(Visitor.id == visitor_id, own_visitor(Visitor.id, employee_id)))
        is not None
    )


def may_know_cardholder(session: Session, employee_id: int, person_id: int) -> bool:
    """Whether an escort may learn whose card this is in a lookup: their own card, or one
    of their own visitors (``own_visitor``)."""
    return person_id == employee_id or is_own_visitor(session, employee_id, person_id)


def search_visitors(
    session: Session,
    text: str = "",
    *,
    own_visitors_of: int | None = None,
    by_number: bool = False,
    limit: int = 100,
) -> list[Visitor]:
    """Visitors whose name or organisation contains ``text``, newest first.

    ``by_number`` (only for a viewer who sees numbers in clear, R20: the safety officer) also
    finds a phone containing ``text`` or an identity number equal to it; for everyone else
    a search by number would recover a masked number digit by digit. ``own_visitors_of``
    (an employee id) keeps only that employee's own visitors."""
    q = select(Visitor).order_by(Visitor.id.desc()).limit(limit)
    text = text.strip()
    if text:
        like = f"%{text}%"
        matches: list[ColumnElement[bool]] = [Visitor.name.ilike(like), Visitor.organisation.ilike(like)]
        if by_number:
            matches += [Visitor.phone.ilike(like), Visitor.id_number == normalise_id_number(text)]
        q = q.where(or_(*matches))
    if own_visitors_of is not None:
        q = q.where(own_visitor(Visitor.id, own_visitors_of))
    return list(session.scalars(q))


@dataclass
class VisitorRecord:
    """Everything known about one visitor, for the full record (page and API)."""

    visitor: Visitor
    visits: list[Visit]
    forms: list[ContactForm]
    education: list[Education]
    cards: dict[int, NotificationCard]  # education id -> signed notification card
    badges: list[Badge]
    helmets: list[Helmet]
    breaches: list[Breach]
    bans: list[Ban]
    presence: Presence | None
    names: dict[int, str] = field(default_factory=dict)  # employee ids named above


def visitor_record(session: Session, visitor_id: int) -> VisitorRecord:
    """The full record of a visitor, newest first; NotFound for an unknown id."""
    v = get_or_404(session, Visitor, visitor_id, "visitor")

    def rows(model: Any, column: Any, order: Any) -> list[Any]:
        return list(session.scalars(select(model).where(column == visitor_id).order_by(order.desc())))

    visits = rows(Visit, Visit.visitor_id, Visit.id)
    forms = rows(ContactForm, ContactForm.visitor_id, ContactForm.id)
    education = rows(Education, Education.visitor_id, Education.delivered_at)
    cards = {
        c.education_id: c
        for c in session.scalars(
            select(NotificationCard).where(NotificationCard.education_id.in_([e.id for e in education]))
        )
    }
    record = VisitorRecord(
        visitor=v,
        visits=visits,
        forms=forms,
        education=education,
        cards=cards,
        badges=rows(Badge, Badge.visitor_id, Badge.id),
        helmets=rows(Helmet, Helmet.visitor_id, Helmet.id),
        breaches=rows(Breach, Breach.person_id, Breach.at),
        bans=rows(Ban, Ban.person_id, Ban.until),
        presence=session.get(Presence, visitor_id),
    )
    ids: set[int | None] = {x.host_id for x in visits} | {f.escort_id for f in forms} | {f.approved_by for f in forms}
    ids |= {e.educator_id for e in education} | {b.seen_by for b in record.breaches}
    record.names = names(session, ids)
    return record


@dataclass
class EscortedVisitor:
    """One of an escort's visitors with an open visit, and where they are now."""

    visitor: Visitor
    visit: Visit
    zone: str | None  # where the visitor is now (None: not inside any zone)
    entered_at: datetime | None = None
    forms: list[ContactForm] = field(default_factory=list)  # approved, naming this escort
    badge: str | None = None  # the active badge's card, to look it up in one tap


def escort_visitors(session: Session, escort_id: int) -> list[EscortedVisitor]:
    """The escort's own visitors (``own_visitor``) with an open visit, by name."""
    open_visits = {
        v.visitor_id: v
        for v in session.scalars(
            select(Visit).where(Visit.state != "closed", own_visitor(Visit.visitor_id, escort_id)).order_by(Visit.id)
        )
    }
    if not open_visits:
        return []
    ids = list(open_visits)
    presence = {p.person_id: p for p in session.scalars(select(Presence).where(Presence.person_id.in_(ids)))}
    forms: dict[int, list[ContactForm]] = {}
    for f in session.scalars(
        select(ContactForm)
        .where(ContactForm.visitor_id.in_(ids), ContactForm.escort_id == escort_id, ContactForm.state == "approved")
        .order_by(ContactForm.id)
    ):
        forms.setdefault(f.visitor_id, []).append(f)
    badges = dict(
        session.execute(
            select(Badge.visitor_id, Badge.card).where(Badge.visitor_id.in_(ids), Badge.state == "active")
        ).all()
    )
    out = []
    for visitor in session.scalars(select(Visitor).where(Visitor.id.in_(ids)).order_by(Visitor.name)):
        here = presence.get(visitor.id)
        out.append(
            EscortedVisitor(
                visitor,
                open_visits[visitor.id],
                here.zone if here else None,
                here.entered_at if here else None,
                forms.get(visitor.id, []),
                badges.get(visitor.id),
            )
        )
    return out
