"""Queries about where people are: who is inside each zone (R15, R16), from the presence
table the controllers' passages keep."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zones.schema import ContactForm, ContactFormZone, Person, Presence
from zones.services.queries.people import people_by_id


@dataclass(frozen=True)
class Inside:
    """One person inside a zone, as the dashboard and GET /zones/{zone}/occupants list them."""

    person: Person
    escort: Person | None
    entered_at: datetime
    accounted: bool  # R16: seen at the assembly point
    form_valid_until: datetime | None  # visitors: their approved form for the zone (R5); employees: None


def inside_by_zone(session: Session, at: datetime, zone: str | None = None) -> dict[str, list[Inside]]:
    """Zone id -> who is recorded inside it (only ``zone`` when given), earliest entry
    first, with their escort and, for a visitor, the end of the approved contact form that
    covers the zone (R5): the latest one already in force at ``at``, so a form that ran out
    while its visitor is still inside shows its past end."""
    q = select(Presence, Person).join(Person, Person.id == Presence.person_id)
    if zone is not None:
        q = q.where(Presence.zone == zone)
    rows = session.execute(q.order_by(Presence.zone, Presence.entered_at, Person.id)).all()
    escorts = people_by_id(session, (p.escort_id for p, _ in rows))
    visitors = [person.id for _, person in rows if person.kind == "visitor"]
    until: dict[tuple[int, str], datetime] = {}
    if visitors:
        forms = session.execute(
            select(ContactForm.visitor_id, ContactFormZone.zone, func.max(ContactForm.valid_until))
            .join(ContactFormZone, ContactFormZone.form_id == ContactForm.id)
            .where(
                ContactForm.visitor_id.in_(visitors),
                ContactForm.state == "approved",
                ContactForm.valid_from <= at,
            )
            .group_by(ContactForm.visitor_id, ContactFormZone.zone)
        ).all()
        until = {(v, z): end for v, z, end in forms}
    out: dict[str, list[Inside]] = defaultdict(list)
    for p, person in rows:
        out[p.zone].append(
            Inside(
                person=person,
                escort=escorts.get(p.escort_id) if p.escort_id else None,
                entered_at=p.entered_at,
                accounted=p.accounted,
                form_valid_until=until.get((person.id, p.zone)),
            )
        )
    return dict(out)
