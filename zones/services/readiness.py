"""Is the visitor ready for each zone? The checklist on the visitor page: per zone, each rule
the gate will check, ticked or crossed.

The ticks and crosses are not worked out here: they are the gate's own dry run
(zones.services.card_check, which runs zones.rules.decide on the facts a controller's
snapshot holds), sorted by rule. A rule is crossed exactly when the decision carries a
reason of that rule, and every reason lands under its rule, so the checklist and
GET /zones/{zone}/check (same card, same escort card, same moment) cannot disagree. Only
which rules to list for a zone and their names live here.

The escort (R10): a visitor passes with an escort of record of a contact form valid now for
the zone; the check is made with each such escort's card and the best answer kept (the
fewest failing rules; the first escort on a tie). Without such a form there is no escort to
try and the engine's R10 fails, as it does at a gate where nobody comes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.errors import N_
from zones.facts import Decision, PersonFacts, Policy, Reason, Zone
from zones.schema import Employee
from zones.services.card_check import ZoneCheck, check_card, check_facts, facts_for_card
from zones.snapshot import facts_by_person

# rule id -> what the gate checks under it, in the order a visitor is prepared (reception,
# forms, education, escort, equipment, then the moment's conditions). A zone lists them all
# except those its configuration does not call for (_applies).
CHECKS: dict[str, str] = {
    "R1": N_("Appointment"),
    "R2": N_("Identity checked at reception"),
    "R3": N_("Active badge"),
    "R5": N_("Approved contact form for the zone"),
    "R8": N_("Safety education, card valid"),
    "R7": N_("Notification card signed"),
    "R9": N_("Signed card names this high-risk zone"),
    "R10": N_("Escort of record"),
    "R11": N_("Of age"),
    "R12": N_("Safety helmet issued"),
    "R14": N_("Opening hours"),
    "R15": N_("Room in the zone, not already inside"),
    "R17": N_("Not banned"),
    "R21": N_("No open incident"),
    "R16": N_("No emergency"),
}


# The engine looks at the notification card only once the education counts and is valid
# (R8), and names the zone on it (R9) only once it is signed (R7): while those fail, the
# later rule is not checked at all, so the checklist says so rather than tick it.
CHECKED_AFTER: dict[str, tuple[str, ...]] = {"R7": ("R8",), "R9": ("R8", "R7")}


@dataclass(frozen=True)
class RuleCheck:
    """One line of the checklist: the rule, its name (English, translated by the pages), the
    engine's reasons under it (none: ticked) and, for a rule the engine did not reach, the
    failing rule it waits for."""

    rule: str
    name: str
    reasons: tuple[Reason, ...]
    waits_for: str | None = None

    @property
    def passed(self) -> bool:
        return not self.reasons and self.waits_for is None


@dataclass(frozen=True)
class ZoneReadiness:
    """The checklist for one zone, and what the dry run was made with: the visitor's card
    (None: no badge yet), the escort's card (None: no escort of record to try) and the
    moment, so the same check can be asked of GET /zones/{zone}/check."""

    zone: Zone
    decision: Decision
    checks: tuple[RuleCheck, ...]
    card: str | None
    escort: PersonFacts | None
    escort_card: str | None
    at: datetime

    @property
    def ready(self) -> bool:
        return self.decision.allowed


def visitor_readiness(
    session: Session, visitor_id: int, zones: Iterable[Zone], policy: Policy, at: datetime
) -> list[ZoneReadiness] | None:
    """The checklist of each of ``zones`` for the visitor at the aware time ``at``; None when
    the gates know nothing of the visitor (no open visit and no badge: R1)."""
    today = local(at, policy.timezone).date()
    person = facts_by_person(session, today, {visitor_id}).get(visitor_id)
    if person is None or person.kind != "visitor":
        return None
    zones = list(zones)
    candidates = _escort_cards(session, person, zones, at)
    # one dry run per escort card, over the zones it is a candidate for (a plant has many
    # zones and few escorts per visitor)
    runs: dict[tuple[str | None, str], ZoneCheck] = {}
    for escort_card in dict.fromkeys(c for cards in candidates.values() for c in cards):
        group = [z for z in zones if escort_card in candidates[z.id]]
        for check in _dry_run(session, group, person, escort_card, policy, at):
            runs[escort_card, check.zone.id] = check
    out = []
    for zone in zones:
        # the escort who can take the visitor in with the fewest failing rules; min keeps
        # the first on a tie
        escort_card = min(candidates[zone.id], key=lambda c: len(runs[c, zone.id].decision.reasons))
        check = runs[escort_card, zone.id]
        out.append(
            ZoneReadiness(
                zone=zone,
                decision=check.decision,
                checks=_checklist(zone, check.decision),
                card=person.card,
                escort=check.escort,
                escort_card=escort_card,
                at=at,
            )
        )
    return out


def _dry_run(
    session: Session, zones: list[Zone], person: PersonFacts, escort_card: str | None, policy: Policy, at: datetime
) -> list[ZoneCheck]:
    """The gate's dry run for the visitor's card (GET /zones/{zone}/check); for a visitor
    with no card yet, the same engine on the same facts with no card."""
    if person.card:
        return check_card(session, zones, person.card, escort_card, policy, at)
    today = local(at, policy.timezone).date()
    escort = facts_for_card(session, escort_card, today) if escort_card else None
    return check_facts(session, zones, "", person, escort, policy, at)


def _escort_cards(
    session: Session, person: PersonFacts, zones: list[Zone], at: datetime
) -> dict[str, list[str | None]]:
    """zone id -> the cards of the escorts of record of the visitor's forms valid at ``at``
    for the zone (R10), in the forms' order; [None] when there is none to try."""
    ids: dict[str, list[int]] = {z.id: [] for z in zones}
    for f in person.forms:
        if f.valid_from <= at <= f.valid_until:
            for zone_id in f.zones & ids.keys():
                ids[zone_id] += [e.person_id for e in f.escorts if e.person_id not in ids[zone_id]]
    everyone = {i for named in ids.values() for i in named}
    query = select(Employee.id, Employee.card).where(
        Employee.id.in_(everyone), Employee.active.is_(True), Employee.card.is_not(None)
    )
    cards = {employee_id: card for employee_id, card in session.execute(query)}
    return {zone_id: [cards[i] for i in named if i in cards] or [None] for zone_id, named in ids.items()}


def _checklist(zone: Zone, decision: Decision) -> tuple[RuleCheck, ...]:
    """The zone's rules with the decision's reasons under each; a reason of a rule not
    listed (an engine change) gets its own line, so no cross is ever lost."""
    rules = list(dict.fromkeys([r for r in CHECKS if _applies(r, zone)] + [r.rule for r in decision.reasons]))
    failed = {r.rule for r in decision.reasons}
    return tuple(
        RuleCheck(
            rule,
            CHECKS.get(rule, rule),
            tuple(r for r in decision.reasons if r.rule == rule),
            next((first for first in CHECKED_AFTER.get(rule, ()) if first in failed), None),
        )
        for rule in rules
    )


def _applies(rule: str, zone: Zone) -> bool:
    """Rules the engine checks only for some zones: R9 for high-risk ones, R12 where a helmet
    is required, R14 where the zone has opening hours (its night-escort part still shows as a
    cross when it fails, from the reason)."""
    if rule == "R9":
        return zone.risk == "high-risk"
    if rule == "R12":
        return zone.helmet
    if rule == "R14":
        return zone.hours is not None
    return True
