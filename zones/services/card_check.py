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

from sqlalchemy import bindparam, func, select, union_all
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.facts import Decision, EntryRequest, PersonFacts, Policy, Zone
from zones.rules import decide
from zones.schema import Badge, Employee, Person, Presence, SiteState
from zones.snapshot import facts_for_persons

# The lookup's own statements, built once (an escort's handheld asks many times a minute,
# and building a statement costs more than running it): SQLAlchemy caches their compiled
# form, the values are bound per call.
_HOLDERS = union_all(  # who holds these cards: an active employee, or a visitor's active or lost badge (R3)
    select(Employee.id).where(Employee.card.in_(bindparam("cards", expanding=True)), Employee.active.is_(True)),
    select(Badge.visitor_id).where(
        Badge.card.in_(bindparam("cards", expanding=True)), Badge.state.in_(("active", "lost"))
    ),
)
_MOMENT = select(  # one round trip: the emergency (as read_site_state), where the person is, the escort's charge
    select(SiteState.emergency_active).where(SiteState.id == 1).scalar_subquery(),
    select(Presence.zone).where(Presence.person_id == bindparam("person")).scalar_subquery(),
    select(Presence.entered_at).where(Presence.person_id == bindparam("person")).scalar_subquery(),
    select(func.count())  # visitors in the escort's charge, counted as controller.presence counts them
    .select_from(Presence)
    .join(Person, Person.id == Presence.person_id)
    .where(Presence.escort_id == bindparam("escort"), Person.kind == "visitor")
    .scalar_subquery(),
)
_OCCUPANCY = (
    select(Presence.zone, func.count())
    .where(Presence.zone.in_(bindparam("zones", expanding=True)))
    .group_by(Presence.zone)
)


@dataclass(frozen=True)
class ZoneCheck:
    """The decision for one zone, and whom the cards belong to (None: unknown card).
    ``inside_since``: when the person entered this zone, if they are recorded inside it
    now (the decision then carries R15 anti-passback: they would be refused at the
    entrance again, while for whoever looks them up they are simply inside)."""

    zone: Zone
    decision: Decision
    person: PersonFacts | None
    escort: PersonFacts | None
    inside_since: datetime | None = None


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
    checked as an unknown card, so the answer names nobody and none of their reasons.

    Three statements besides the facts, whatever the number of zones: the cards' holders,
    the moment (emergency, presence, escort's charge) and the occupancy of the zones that
    have a limit; the facts of both cards are read by one ``facts_for_persons``."""
    card = card.strip().upper()
    escort_card = escort_card.strip().upper() if escort_card else None
    facts = _facts_for_cards(session, [c for c in (card, escort_card) if c], local(at, policy.timezone).date())
    person = facts.get(card)
    escort = facts.get(escort_card) if escort_card else None
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
    zones = list(zones)
    emergency, inside_zone, entered_at, charge = session.execute(
        _MOMENT,
        {"person": person.person_id if person else None, "escort": escort.person_id if escort else None},
    ).one()
    limited = [z.id for z in zones if z.max_occupancy is not None]
    occupancy = dict(session.execute(_OCCUPANCY, {"zones": limited}).all()) if limited else {}
    out = []
    for zone in zones:
        inside = person is not None and inside_zone == zone.id
        request = EntryRequest(
            card=card,
            person=person,
            now=at,
            escort=escort,
            escort_charge=int(charge or 0) if escort is not None else 0,
            occupancy=int(occupancy.get(zone.id, 0)),
            inside=inside,
            emergency=bool(emergency),
        )
        out.append(ZoneCheck(zone, decide(request, zone, policy), person, escort, entered_at if inside else None))
    return out


def facts_for_card(session: Session, card: str, today: date) -> PersonFacts | None:
    """The PersonFacts a controller's snapshot would hold for ``card``. A lost badge comes
    back with badge="lost" (R3); an unknown card gives None."""
    card = card.strip().upper()
    return _facts_for_cards(session, [card], today).get(card)


def _facts_for_cards(session: Session, cards: list[str], today: date) -> dict[str, PersonFacts]:
    """card -> PersonFacts for a few cards (upper case): their holders in one query, their
    facts in one ``facts_for_persons``."""
    ids = set(session.scalars(_HOLDERS, {"cards": cards})) if cards else set()
    return facts_for_persons(session, today, ids) if ids else {}
