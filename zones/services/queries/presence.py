"""Queries about where people are: occupancy per zone and a zone's occupants (R15, R16),
from the presence table the controllers' passages keep."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zones.schema import Person, Presence
from zones.services.queries.people import people_by_id


def occupancy(session: Session) -> Counter[str]:
    """People recorded inside each zone now."""
    rows = session.execute(select(Presence.zone, func.count()).group_by(Presence.zone)).all()
    return Counter({zone: int(n) for zone, n in rows})


def occupants(session: Session, zone: str) -> list[tuple[Presence, Person, Person | None]]:
    """Who is recorded inside ``zone``, with their escort, earliest entry first."""
    rows = session.execute(
        select(Presence, Person)
        .join(Person, Person.id == Presence.person_id)
        .where(Presence.zone == zone)
        .order_by(Presence.entered_at, Person.id)
    ).all()
    escorts = people_by_id(session, (p.escort_id for p, _ in rows))
    return [(p, person, escorts.get(p.escort_id) if p.escort_id else None) for p, person in rows]
