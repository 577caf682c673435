"""Read-only queries the web needs that the other services do not offer: employee lists,
a visitor's full record, an escort's own visitors, zone occupants, gate health, names of
people named in events.

Each takes a Session first, returns rows (or small dataclasses of rows, or engine facts),
and raises zones.errors.NotFound for an unknown id. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zones.facts import EntryRequest, PersonFacts
from zones.schema import (
    Badge,
    ContactForm,
    Employee,
    GateHealth,
    Person,
    Presence,
    Visit,
    Visitor,
)


def list_employees(session: Session, *, card: str | None = None, role: str | None = None,
                   department: str | None = None) -> list[Employee]:
    """Active employees by name, filtered (card is matched normalised, upper case)."""
    q = select(Employee).where(Employee.active.is_(True))
    if card:
        q = q.where(Employee.card == card.strip().upper())
    if role:
        q = q.where(Employee.role == role)
    if department:
        q = q.where(Employee.department == department)
    return list(session.scalars(q.order_by(Employee.name, Employee.id)))


def is_own_visitor(session: Session, employee_id: int, visitor_id: int) -> bool:
    """True when the employee escorts the visitor on a contact form or hosts one of their
    visits: the visitors an escort may see (issue part 2)."""
    on_form = session.scalar(select(ContactForm.id).where(
        ContactForm.visitor_id == visitor_id, ContactForm.escort_id == employee_id).limit(1))
    if on_form is not None:
        return True
    return session.scalar(select(Visit.id).where(
        Visit.visitor_id == visitor_id, Visit.host_id == employee_id).limit(1)) is not None


def own_visitor_ids(session: Session, employee_id: int) -> set[int]:
    """Every visitor the employee escorts (forms) or hosts (visits)."""
    ids = set(session.scalars(select(ContactForm.visitor_id).where(ContactForm.escort_id == employee_id)))
    ids |= set(session.scalars(select(Visit.visitor_id).where(Visit.host_id == employee_id)))
    return ids


def occupants(session: Session, zone: str) -> list[tuple[Presence, Person, Person | None]]:
    """Who is recorded inside ``zone`` (presence table, from passages), with their escort,
    earliest entry first."""
    rows = session.execute(select(Presence, Person).join(Person, Person.id == Presence.person_id)
                           .where(Presence.zone == zone)
                           .order_by(Presence.entered_at, Person.id)).all()
    escorts = people_by_id(session, (p.escort_id for p, _ in rows if p.escort_id))
    return [(p, person, escorts.get(p.escort_id) if p.escort_id else None) for p, person in rows]


def people_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Person]:
    """Persons (visitors and employees) by id, for naming people in events and lists."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))}


def gate_health(session: Session) -> dict[str, GateHealth]:
    """The controllers' latest report per gate id."""
    return {g.gate_id: g for g in session.scalars(select(GateHealth))}


def visitors_by_name(session: Session, text: str, limit: int = 50) -> list[Visitor]:
    """Visitors whose name or organisation contains ``text`` (case-insensitive)."""
    like = f"%{text.strip()}%"
    return list(session.scalars(select(Visitor).where(
        or_(Visitor.name.ilike(like), Visitor.organisation.ilike(like))).order_by(Visitor.name).limit(limit)))


# ---- the handheld check (GET /zones/{zone}/check) -------------------------------------

def facts_for_card(session: Session, card: str, today: date) -> PersonFacts | None:
    """The PersonFacts a controller's snapshot would hold for ``card``, built for that one
    card with the snapshot's own code (zones.snapshot), so the check and the gate agree.
    A lost badge comes back with badge="lost" (R3); an unknown card gives None."""
    from zones.snapshot import facts_for_persons

    card = card.strip().upper()
    ids = set(session.scalars(select(Employee.id).where(Employee.card == card, Employee.active.is_(True))))
    ids |= set(session.scalars(select(Badge.visitor_id).where(Badge.card == card, Badge.state.in_(("active", "lost")))))
    if not ids:
        return None
    return facts_for_persons(session, today, ids).get(card)


def entry_request(session: Session, zone: str, card: str, escort_card: str | None, now: datetime,
                  today: date) -> EntryRequest:
    """The EntryRequest a gate of ``zone`` would decide on at ``now``: the cardholder's and
    escort's facts, the escort's charge, occupancy and anti-passback from the presence
    table (R10, R15), and the site emergency (R16)."""
    from zones.central import read_site_state

    person = facts_for_card(session, card, today)
    escort = facts_for_card(session, escort_card, today) if escort_card else None
    inside = person is not None and session.scalar(select(Presence.person_id).where(
        Presence.person_id == person.person_id, Presence.zone == zone)) is not None
    charge = 0
    if escort is not None:   # visitors in the escort's charge, as controller.presence counts them
        charge = int(session.scalar(select(func.count()).select_from(Presence)
                                    .join(Person, Person.id == Presence.person_id)
                                    .where(Presence.escort_id == escort.person_id, Person.kind == "visitor")) or 0)
    occupancy = int(session.scalar(select(func.count()).select_from(Presence).where(Presence.zone == zone)) or 0)
    return EntryRequest(
        card=card.strip().upper(), person=person, now=now, escort=escort, escort_charge=charge,
        occupancy=occupancy, inside=inside, emergency=read_site_state(session).emergency_active)
