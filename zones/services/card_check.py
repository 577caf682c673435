"""Would this card be let into a zone now? The one-off check behind the handheld lookup,
GET /zones/{zone}/check and the visitor page's readiness checklist.

It builds the cardholder's facts with the snapshot's own code (zones.snapshot) and runs the
rules engine the controllers run (zones.rules.decide), with occupancy, anti-passback and the
escort's charge from the presence table, so the check and the gate agree. It opens nothing:
the web does not talk to hardware.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.central import read_site_state
from zones.facts import Decision, EntryRequest, PersonFacts, Policy, Zone
from zones.rules import decide
from zones.schema import Badge, Employee, Person, Presence
from zones.snapshot import facts_for_persons


@dataclass(frozen=True)
class ZoneCheck:
    """The decision for one zone, and whom the cards belong to (None: unknown card)."""

    zone: Zone
    decision: Decision
    person: PersonFacts | None
    escort: PersonFacts | None


def check_card(
    session: Session,
    zones: Iterable[Zone],
    card: str,
    escort_card: str | None,
    policy: Policy,
    at: datetime,
    *,
    may_know: Callable[[PersonFacts], bool] | None = None,
) -> list[ZoneCheck]:
    """The decision for ``card`` (presented with ``escort_card``, R10) at each of ``zones``
    at the aware time ``at``, in the order given. Every failing rule is listed.

    ``may_know``: whether the asker may learn whose card it is; a card of anyone else is
    checked as an unknown card, so the answer names nobody and none of their reasons."""
    card = card.strip().upper()
    today = local(at, policy.timezone).date()
    person = facts_for_card(session, card, today)
    escort = facts_for_card(session, escort_card, today) if escort_card else None
    if may_know is not None:
        person = person if person is not None and may_know(person) else None
        escort = escort if escort is not None and may_know(escort) else None
    return check_facts(session, zones, card, person, escort, policy, at)


def check_facts(
    session: Session,
    zones: Iterable[Zone],
    card: str,
    person: PersonFacts | None,
    escort: PersonFacts | None,
    policy: Policy,
    at: datetime,
) -> list[ZoneCheck]:
    """``check_card`` once the cardholders' facts are known: the moment's occupancy,
    anti-passback, escort charge and emergency from the database, then the engine. The
    readiness checklist (zones.services.readiness) calls it directly for a visitor with no
    badge yet (``card`` "", the engine's R3 fails), to show what else the gate will check."""
    charge = _escort_charge(session, escort.person_id) if escort is not None else 0
    emergency = read_site_state(session).emergency_active
    out = []
    for zone in zones:
        inside = (
            person is not None
            and session.scalar(
                select(Presence.person_id).where(Presence.person_id == person.person_id, Presence.zone == zone.id)
            )
            is not None
        )
        occupancy = int(session.scalar(select(func.count()).select_from(Presence).where(Presence.zone == zone.id)) or 0)
        request = EntryRequest(
            card=card,
            person=person,
            now=at,
            escort=escort,
            escort_charge=charge,
            occupancy=occupancy,
            inside=inside,
            emergency=emergency,
        )
        out.append(ZoneCheck(zone, decide(request, zone, policy), person, escort))
    return out


def facts_for_card(session: Session, card: str, today: date) -> PersonFacts | None:
    """The PersonFacts a controller's snapshot would hold for ``card``. A lost badge comes
    back with badge="lost" (R3); an unknown card gives None."""
    card = card.strip().upper()
    ids = set(session.scalars(select(Employee.id).where(Employee.card == card, Employee.active.is_(True))))
    ids |= set(session.scalars(select(Badge.visitor_id).where(Badge.card == card, Badge.state.in_(("active", "lost")))))
    if not ids:
        return None
    return facts_for_persons(session, today, ids).get(card)


def _escort_charge(session: Session, escort_id: int) -> int:
    """Visitors in the escort's charge now, counted as controller.presence counts them."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Presence)
            .join(Person, Person.id == Presence.person_id)
            .where(Presence.escort_id == escort_id, Person.kind == "visitor")
        )
        or 0
    )
