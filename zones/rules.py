"""The rules engine: may this person enter this zone now? Pure: facts in, a Decision out.

``decide`` never stops at the first failure: a denial lists every failing rule (design.md),
each with its rule id and a message a guard can read aloud. Visitors are held to the
rulebook (R1-R17, R21); employees to their own short set: an active card (R3), the zone
among the zones they may enter (E1), capacity and anti-passback (R15), emergencies (R16),
bans (R17: "a banned person neither enters nor escorts") and open incidents (R21).
"""

from __future__ import annotations

from datetime import date, datetime

from zones.calendar import add_months, age_on, local
from zones.facts import BanFact, Decision, EducationFact, EntryRequest, FormFact, PersonFacts, Policy, Reason, Zone
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
            reasons.append(reason("employee-not-authorised", zone=zone.name, zone_id=zone.id))  # E1
        _ban_and_incident(person, today, reasons)
        return Decision(not reasons, tuple(reasons), person.person_id)

    _visit(person, reasons)
    forms_now = [f for f in person.forms if zone.id in f.zones and f.valid_from <= request.now <= f.valid_until]
    if not forms_now:
        reasons.append(reason("no-form", zone=zone.name, zone_id=zone.id, department=zone.department))  # R5
    night = policy.night.contains(now_local.time())
    _education(person, zone, policy, request.now, today, night, reasons)
    _escort(request, zone, policy, forms_now, night, today, reasons)
    _age(person, policy, today, reasons)
    if zone.helmet and not person.helmet:
        reasons.append(reason("no-helmet", zone=zone.name, zone_id=zone.id))  # R12
    if zone.hours is not None and not zone.hours.contains(now_local.time()):
        if not any(f.outside_hours for f in forms_now):
            reasons.append(reason("outside-hours", zone=zone.name, zone_id=zone.id, hours=zone.hours))  # R14
    _ban_and_incident(person, today, reasons)
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
        reasons.append(reason("passback", zone=zone.name, zone_id=zone.id))
    elif zone.max_occupancy is not None and request.occupancy >= zone.max_occupancy:
        reasons.append(reason("zone-full", zone=zone.name, zone_id=zone.id, limit=zone.max_occupancy))


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


def _ban_and_incident(person: PersonFacts, today: date, reasons: list[Reason]) -> None:
    """R17: a ban binds anyone, employees included; R21: nobody recorded in an open category
    A or B incident enters a production zone."""
    ban = _active_ban(person, today)
    if ban is not None:
        reasons.append(reason("banned", date=ban.until.isoformat()))
    if person.incident_hold:
        reasons.append(reason("incident-open"))


def _active_ban(person: PersonFacts, today: date) -> BanFact | None:
    return max((b for b in person.bans if b.until >= today), key=lambda b: b.until, default=None)


def educating_departments(zone: Zone, policy: Policy, night: bool) -> tuple[str, ...]:
    """R6: education counts for a zone when given by the zone's department, by the safety &
    environment department, or, for entries at night (R14), by the dispatch room."""
    departments = (zone.department, policy.safety_department)
    return departments + (policy.dispatch_department,) if night else departments


def _education(
    person: PersonFacts, zone: Zone, policy: Policy, now: datetime, today: date, night: bool, reasons: list[Reason]
) -> None:
    """R6 education by a department that counts for the zone, given before this moment; R8
    its card valid today; R7 the notification card signed; R9 for a high-risk zone the signed
    card names the zone."""
    departments = educating_departments(zone, policy, night)
    records = [
        e
        for e in person.education
        if e.department in departments and e.delivered_on <= today and (e.delivered_at is None or e.delivered_at <= now)
    ]
    if not records:
        reasons.append(reason("no-education", department=zone.department))
        return
    valid = [e for e in records if education_valid_until(e.delivered_on, policy) >= today]
    if not valid:
        latest = max(records, key=lambda e: e.delivered_on)
        reasons.append(
            reason(
                "education-expired",
                department=zone.department,
                date=education_valid_until(latest.delivered_on, policy).isoformat(),
            )
        )
        return
    signed = [e for e in valid if e.notification_signed]
    if not signed:
        reasons.append(reason("no-notification-card", zone=zone.name, zone_id=zone.id))  # R7
    elif zone.risk == "high-risk" and not any(_card_names_zone(e, zone) for e in signed):
        reasons.append(reason("notification-card-zone", zone=zone.name, zone_id=zone.id))  # R9


def _card_names_zone(e: EducationFact, zone: Zone) -> bool:
    """R9: the signed card names the zone; a card from before cards named zones counts for
    the zones of the department that gave it."""
    return zone.id in e.zones if e.zones else e.department == zone.department


def _escort(
    request: EntryRequest,
    zone: Zone,
    policy: Policy,
    forms_now: list[FormFact],
    night: bool,
    today: date,
    reasons: list[Reason],
) -> None:
    """R10 the escort present is one of record on a form valid now for the zone, an employee
    of the zone's department or authorised for the zone, on duty, not banned (R17), under
    the limit; R14 at night the escort comes from the dispatch room."""
    escort = request.escort
    if escort is None:
        if request.escort_waited:  # "within N s" only when the gate did wait that long
            window = f"{policy.escort_window_s:g}"
            reasons.append(reason("no-escort-waited", window=window, escorts=_escort_names(forms_now)))
        else:
            reasons.append(reason("no-escort", escorts=_escort_names(forms_now)))
        return
    if escort.kind != "employee":
        reasons.append(reason("escort-not-employee", escort=escort.name))
        return
    if forms_now and not any(f.names_escort(escort.person_id) for f in forms_now):
        reasons.append(reason("escort-not-of-record", escort=escort.name, escorts=_escort_names(forms_now)))
    if escort.badge != "active":
        reasons.append(reason("escort-card-inactive", escort=escort.name))
    if zone.id not in escort.escort_zones and escort.department != zone.department:
        reasons.append(reason("escort-not-authorised", escort=escort.name, zone=zone.name, zone_id=zone.id))
    if not escort.on_duty:
        reasons.append(reason("escort-off-duty", escort=escort.name))
    if _active_ban(escort, today) is not None:
        reasons.append(reason("escort-banned", escort=escort.name))  # R17
    if request.escort_charge >= policy.escort_max_visitors:
        reasons.append(
            reason("escort-at-limit", escort=escort.name, count=request.escort_charge, limit=policy.escort_max_visitors)
        )
    if night and not may_escort_at_night(escort.dispatch_room, escort.department, policy):
        reasons.append(reason("night-escort", night=policy.night))


def may_escort_at_night(dispatch_room: bool, department: str | None, policy: Policy) -> bool:
    """R14: night visits need a dispatch-room escort (dispatch-room staff, or anyone of the
    dispatch department)."""
    return dispatch_room or department == policy.dispatch_department


def is_escort_of_record(person: PersonFacts, escort_id: int, zone: Zone, now: datetime) -> bool:
    """R10 at the gate: may this escort's card confirm this waiting visitor? Only an escort of
    record on a form valid now for the zone (a visitor without such a form is decided with
    the escort present, and denied for the form)."""
    forms_now = [f for f in person.forms if zone.id in f.zones and f.valid_from <= now <= f.valid_until]
    return not forms_now or any(f.names_escort(escort_id) for f in forms_now)


def _escort_names(forms: list[FormFact]) -> str:
    names = sorted({e.name for f in forms for e in f.escorts})
    return ", ".join(names) if names else "-"


def _age(person: PersonFacts, policy: Policy, today: date, reasons: list[Reason]) -> None:
    """R11: nobody under the minimum age on the date of entry."""
    if person.birth_date is None:
        reasons.append(reason("no-birth-date"))
        return
    age = age_on(person.birth_date, today)
    if age < policy.min_age:
        reasons.append(reason("under-age", age=age, min_age=policy.min_age))
