"""The rules engine: may this person enter this zone now? Pure: facts in, a Decision out.

``decide`` never stops at the first failure: a denial lists every failing rule (design.md),
each with its rule id and a message a guard can read aloud. Visitors are held to the
rulebook (R1-R17); employees to their own short set: an active card (R3), the zone among
the zones they may enter (E1), capacity and anti-passback (R15), emergencies (R16).
"""

from __future__ import annotations

from datetime import date, datetime

from zones.calendar import add_months, age_on, local
from zones.facts import Decision, EntryRequest, PersonFacts, Policy, Reason, Zone
from zones.messages import reason


def decide(request: EntryRequest, zone: Zone, policy: Policy) -> Decision:
    """Decide ``request`` for entry into ``zone`` under the site ``policy``.

    Raises ValueError only for a naive ``request.now`` (a programming error).
    """
    now_local = local(request.now, policy.timezone)
    today = now_local.date()
    person = request.person
    reasons: list[Reason] = []
    if request.emergency:
        reasons.append(reason("emergency"))  # R16: entries lock during an emergency
    if person is None:
        reasons.append(reason("unknown-card", card=request.card))  # R3
        return Decision(False, tuple(reasons))
    _card_state(person, request.card, reasons)
    _capacity_and_passback(request, zone, reasons)
    if person.kind == "employee":
        if zone.id not in person.access_zones and zone.id not in person.escort_zones:
            reasons.append(reason("employee-not-authorised", zone=zone.name))  # E1
        return Decision(not reasons, tuple(reasons), person.person_id)

    _visit(person, reasons)
    forms_now = [f for f in person.forms
                 if zone.id in f.zones and f.valid_from <= request.now <= f.valid_until]
    if not forms_now:
        reasons.append(reason("no-form", zone=zone.name, department=zone.department))  # R5
    _education(person, zone, policy, today, reasons)
    _escort(request, zone, policy, now_local, reasons)
    _age(person, policy, today, reasons)
    if zone.helmet and not person.helmet:
        reasons.append(reason("no-helmet", zone=zone.name))  # R12
    if zone.hours is not None and not zone.hours.contains(now_local.time()):
        if not any(f.outside_hours for f in forms_now):
            reasons.append(reason("outside-hours", zone=zone.name, hours=zone.hours))  # R14
    for ban in person.bans:
        if ban.until >= today:
            reasons.append(reason("banned", date=ban.until.isoformat()))  # R17
            break
    needs_escort = request.escort is None and bool(reasons) and all(r.code == "no-escort" for r in reasons)
    return Decision(not reasons, tuple(reasons), person.person_id, needs_escort=needs_escort)


def _card_state(person: PersonFacts, card: str, reasons: list[Reason]) -> None:
    """R3: only an active badge / employee card opens anything; a lost one is blocked at once."""
    if person.badge == "lost":
        reasons.append(reason("badge-lost", card=card))
    elif person.badge != "active":
        reasons.append(reason("badge-returned", card=card))


def _capacity_and_passback(request: EntryRequest, zone: Zone, reasons: list[Reason]) -> None:
    """R15: occupancy limit and anti-passback."""
    if request.inside:
        reasons.append(reason("passback", zone=zone.name))
    elif zone.max_occupancy is not None and request.occupancy >= zone.max_occupancy:
        reasons.append(reason("zone-full", zone=zone.name, limit=zone.max_occupancy))


def _visit(person: PersonFacts, reasons: list[Reason]) -> None:
    """R1 appointment or walk-in exception; R2 identity checked at reception (checked in)."""
    visit = person.visit
    if visit is None or visit.state == "closed":
        reasons.append(reason("no-visit"))
        return
    if not visit.booked_ahead and not visit.walk_in_approved:
        reasons.append(reason("walk-in-not-approved"))
    if visit.state != "on-site":
        reasons.append(reason("not-checked-in"))


def education_valid_until(delivered_on: date, policy: Policy) -> date:
    """R8: the education card is valid through this date, inclusive."""
    return add_months(delivered_on, policy.education_valid_months)


def _education(person: PersonFacts, zone: Zone, policy: Policy, today: date,
               reasons: list[Reason]) -> None:
    """R8 education card by the zone's department, valid today; R9 written notification
    card for high-risk zones."""
    records = [e for e in person.education if e.department == zone.department]
    if not records:
        reasons.append(reason("no-education", department=zone.department))
        return
    valid = [e for e in records if education_valid_until(e.delivered_on, policy) >= today]
    if not valid:
        latest = max(records, key=lambda e: e.delivered_on)
        reasons.append(reason("education-expired", department=zone.department,
                              date=education_valid_until(latest.delivered_on, policy).isoformat()))
        return
    if zone.risk == "high-risk" and not any(e.notification_signed for e in valid):
        reasons.append(reason("no-notification-card", zone=zone.name))


def _escort(request: EntryRequest, zone: Zone, policy: Policy, now_local: datetime,
            reasons: list[Reason]) -> None:
    """R10 escort present, an employee authorised for the zone, on duty, under the limit;
    R14 at night the escort comes from the dispatch room."""
    escort = request.escort
    if escort is None:
        reasons.append(reason("no-escort", window=f"{policy.escort_window_s:g}"))
        return
    if escort.kind != "employee":
        reasons.append(reason("escort-not-employee", escort=escort.name))
        return
    if escort.badge != "active":
        reasons.append(reason("escort-card-inactive", escort=escort.name))
    if zone.id not in escort.escort_zones:
        reasons.append(reason("escort-not-authorised", escort=escort.name, zone=zone.name))
    if not escort.on_duty:
        reasons.append(reason("escort-off-duty", escort=escort.name))
    if request.escort_charge >= policy.escort_max_visitors:
        reasons.append(reason("escort-at-limit", escort=escort.name, count=request.escort_charge,
                              limit=policy.escort_max_visitors))
    if policy.night.contains(now_local.time()) and not escort.dispatch_room:
        reasons.append(reason("night-escort", night=policy.night))


def _age(person: PersonFacts, policy: Policy, today: date, reasons: list[Reason]) -> None:
    """R11: nobody under the minimum age on the date of entry."""
    if person.birth_date is None:
        reasons.append(reason("no-birth-date"))
        return
    age = age_on(person.birth_date, today)
    if age < policy.min_age:
        reasons.append(reason("under-age", age=age, min_age=policy.min_age))
