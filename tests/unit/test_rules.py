"""The rules engine, rule by rule (rules.md ids in the test names). No database, no fixtures:
build facts, call decide, assert on the reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest

from zones.calendar import add_months, age_on
from zones.facts import (
    BanFact,
    EducationFact,
    EntryRequest,
    EscortOfRecord,
    FormFact,
    PersonFacts,
    Policy,
    TimeWindow,
    VisitFact,
    Zone,
)
from zones.messages import MESSAGES, render
from zones.rules import decide

SHANGHAI = timezone(timedelta(hours=8))
POLICY = Policy()
SMELTING = Zone(
    "smelting",
    "Smelting workshop",
    "steelmaking",
    "high-risk",
    helmet=True,
    max_occupancy=40,
    hours=TimeWindow(time(6), time(22)),
)
ASSEMBLY = Zone("assembly", "Assembly hall", "assembly", "general")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A moment in site-local time (Asia/Shanghai), as an aware datetime."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


NOW = at(2026, 11, 24, 10)
WANG = EscortOfRecord(900, "Wang Wei")


def form(zones: set[str], valid_from: datetime, valid_until: datetime, **kw: Any) -> FormFact:
    """An approved form naming Wang Wei (the ``escort()`` below) as escort of record (R10)."""
    return FormFact(frozenset(zones), valid_from, valid_until, **{"escorts": (WANG,), **kw})


def escort(**kw: Any) -> PersonFacts:
    base = PersonFacts(
        person_id=900,
        kind="employee",
        name="Wang Wei",
        card="E900",
        department="steelmaking",
        access_zones=frozenset({"smelting"}),
        escort_zones=frozenset({"smelting", "assembly"}),
        on_duty=True,
    )
    return replace(base, **kw)


def visitor(**kw: Any) -> PersonFacts:
    base = PersonFacts(
        person_id=1,
        kind="visitor",
        name="Li Na",
        card="0A00C0FFEE",
        badge="active",
        birth_date=date(1990, 5, 1),
        visit=VisitFact(state="on-site"),
        forms=(form({"smelting", "assembly"}, at(2026, 11, 1, 0), at(2026, 12, 31, 23)),),
        education=(
            EducationFact("steelmaking", date(2026, 11, 20), notification_signed=True),
            EducationFact("assembly", date(2026, 11, 20), notification_signed=True),
        ),
        helmet=True,
    )
    return replace(base, **kw)


def request(person: PersonFacts | None = None, **kw: Any) -> EntryRequest:
    base = EntryRequest(card="0A00C0FFEE", person=visitor() if person is None else person, now=NOW, escort=escort())
    return replace(base, **kw)


def rules_of(req: EntryRequest, zone: Zone = SMELTING, policy: Policy = POLICY) -> list[str]:
    return decide(req, zone, policy).rules()


def test_allowed_when_every_fact_is_there() -> None:
    decision = decide(request(), SMELTING, POLICY)
    assert decision.allowed and decision.reasons == () and decision.person_id == 1


# --- R1 / R2 appointment and check-in ---------------------------------------------------
@pytest.mark.parametrize(
    "visit, expected",
    [
        (None, ["R1"]),
        (VisitFact("closed"), ["R1"]),
        (VisitFact("on-site", booked_ahead=False), ["R1"]),
        (VisitFact("on-site", booked_ahead=False, walk_in_approved=True), []),
        (VisitFact("booked"), ["R2"]),
    ],
)
def test_R1_appointment_or_walk_in_exception(visit: VisitFact | None, expected: list[str]) -> None:
    assert rules_of(request(visitor(visit=visit))) == expected


# --- R3 badge -----------------------------------------------------------------------
def test_R3_unknown_card_denied() -> None:
    d = decide(replace(request(), person=None, card="DEADBEEF00"), SMELTING, POLICY)
    assert not d.allowed and d.rules() == ["R3"] and "DEADBEEF00" in d.reasons[0].message


@pytest.mark.parametrize("badge, code", [("lost", "badge-lost"), ("returned", "badge-returned")])
def test_R3_lost_or_returned_badge_blocked(badge: str, code: str) -> None:
    d = decide(request(visitor(badge=badge)), SMELTING, POLICY)
    assert [r.code for r in d.reasons] == [code]


# --- R5 contact form ---------------------------------------------------------------
@pytest.mark.parametrize(
    "form, allowed",
    [
        (form({"smelting"}, at(2026, 11, 24, 0), at(2026, 11, 24, 23)), True),
        (form({"assembly"}, at(2026, 11, 1, 0), at(2026, 12, 1)), False),  # other zone
        (form({"smelting"}, at(2026, 11, 25, 0), at(2026, 11, 30)), False),  # not yet
        (form({"smelting"}, at(2026, 11, 1), at(2026, 11, 24, 9, 59)), False),  # ended
    ],
)
def test_R5_contact_form_valid_now_for_this_zone(form: FormFact, allowed: bool) -> None:
    assert rules_of(request(visitor(forms=(form,)))) == ([] if allowed else ["R5"])


def test_R5_message_names_the_department() -> None:
    d = decide(request(visitor(forms=())), SMELTING, POLICY)
    assert "steelmaking" in d.reasons[0].message


# --- R8 education card: 3 calendar months, inclusive, clamped --------------------------
@pytest.mark.parametrize(
    "educated, day, allowed",
    [
        (date(2026, 11, 30), date(2027, 2, 28), True),  # 30 Nov -> valid through 28 Feb
        (date(2026, 11, 30), date(2027, 3, 1), False),  # and denied on 1 Mar
        (date(2027, 11, 30), date(2028, 2, 29), True),  # leap year: through 29 Feb
        (date(2027, 11, 30), date(2028, 3, 1), False),
        (date(2026, 8, 24), date(2026, 11, 24), True),  # same day-of-month three months on
        (date(2026, 8, 23), date(2026, 11, 24), False),
    ],
)
def test_R8_education_valid_three_calendar_months(educated: date, day: date, allowed: bool) -> None:
    person = visitor(
        education=(EducationFact("steelmaking", educated, notification_signed=True),),
        forms=(form({"smelting"}, at(2020, 1, 1), at(2030, 1, 1)),),
    )
    now = datetime.combine(day, time(10), SHANGHAI)
    assert rules_of(request(person, now=now)) == ([] if allowed else ["R8"])


def test_R8_expired_message_tells_the_guard_what_to_do() -> None:
    person = visitor(education=(EducationFact("steelmaking", date(2026, 5, 1), True),))
    d = decide(request(person), SMELTING, POLICY)
    assert d.rules() == ["R8"]
    assert (
        "2026-08-01" in d.reasons[0].message
        and "re-education by the steelmaking safety officer" in d.reasons[0].message
    )


def test_R8_education_by_another_department_does_not_count() -> None:
    person = visitor(education=(EducationFact("assembly", date(2026, 11, 20), True),))
    assert rules_of(request(person)) == ["R8"]


def test_R8_missing_education_denied() -> None:
    assert rules_of(request(visitor(education=()))) == ["R8"]


# --- R6 who educates, and when ---------------------------------------------------------
def test_R6_safety_department_briefing_counts_for_every_zone() -> None:
    person = visitor(
        education=(EducationFact("safety", date(2026, 11, 20), True, "verbal", zones=frozenset({"smelting"})),)
    )
    assert rules_of(request(person)) == []
    assert rules_of(request(person), ASSEMBLY) == []


def test_R6_dispatch_room_education_counts_at_night_only() -> None:
    person = visitor(education=(EducationFact("dispatch", date(2026, 11, 20), True, zones=frozenset({"assembly"})),))
    night_escort = escort(dispatch_room=True)
    assert rules_of(request(person, escort=night_escort, now=at(2026, 11, 24, 21)), ASSEMBLY) == []
    assert rules_of(request(person, escort=night_escort, now=at(2026, 11, 24, 10)), ASSEMBLY) == ["R8"]


def test_R6_education_dated_after_the_moment_does_not_count() -> None:
    # a dry-run check the day before the education: no education yet (R8)
    tomorrow = EducationFact("steelmaking", date(2026, 11, 25), True, delivered_at=at(2026, 11, 25, 9))
    assert rules_of(request(visitor(education=(tomorrow,)))) == ["R8"]
    later_today = EducationFact("steelmaking", date(2026, 11, 24), True, delivered_at=at(2026, 11, 24, 15))
    assert rules_of(request(visitor(education=(later_today,)))) == ["R8"]
    assert rules_of(request(visitor(education=(later_today,)), now=at(2026, 11, 24, 16))) == []


# --- R7 / R9 notification card ---------------------------------------------------------
def test_R7_every_zone_needs_the_signed_notification_card() -> None:
    person = visitor(
        education=(EducationFact("assembly", date(2026, 11, 20), notification_signed=False, method="verbal"),)
    )
    assert [r.code for r in decide(request(person), ASSEMBLY, POLICY).reasons] == ["no-notification-card"]
    assert rules_of(request(person), ASSEMBLY) == ["R7"]


def test_R9_high_risk_zone_needs_the_card_to_name_it() -> None:
    named_other = EducationFact("steelmaking", date(2026, 11, 20), True, zones=frozenset({"casting"}))
    assert rules_of(request(visitor(education=(named_other,)))) == ["R9"]
    named = EducationFact("steelmaking", date(2026, 11, 20), True, zones=frozenset({"smelting"}))
    assert rules_of(request(visitor(education=(named,)))) == []


def test_R9_card_from_before_zones_were_named_counts_for_its_department() -> None:
    legacy = EducationFact("steelmaking", date(2026, 11, 20), True)  # zones empty: signed on paper
    assert rules_of(request(visitor(education=(legacy,)))) == []
    safety_legacy = EducationFact("safety", date(2026, 11, 20), True)
    assert rules_of(request(visitor(education=(safety_legacy,)))) == ["R9"]
    assert rules_of(request(visitor(education=(safety_legacy,))), ASSEMBLY) == []


# --- R10 escort --------------------------------------------------------------------
@pytest.mark.parametrize(
    "the_escort, charge, codes",
    [
        (None, 0, ["no-escort"]),
        (escort(department="assembly", escort_zones=frozenset({"assembly"})), 0, ["escort-not-authorised"]),
        (escort(person_id=901, name="Zhao Lei"), 0, ["escort-not-of-record"]),
        (escort(on_duty=False), 0, ["escort-off-duty"]),
        (escort(kind="visitor"), 0, ["escort-not-employee"]),
        (escort(badge="lost"), 0, ["escort-card-inactive"]),
        (escort(), 4, []),  # under the limit of 5: a fifth visitor is fine
        (escort(), 5, ["escort-at-limit"]),  # at the limit
    ],
)
def test_R10_escort_facts(the_escort: PersonFacts | None, charge: int, codes: list[str]) -> None:
    d = decide(request(escort=the_escort, escort_charge=charge), SMELTING, POLICY)
    assert [r.code for r in d.reasons] == codes
    assert all(r.rule == "R10" for r in d.reasons)


def test_R10_denial_names_the_escorts_of_record() -> None:
    d = decide(request(escort=escort(person_id=901, name="Zhao Lei")), SMELTING, POLICY)
    assert d.rules() == ["R10"] and "Zhao Lei" in d.reasons[0].message and "Wang Wei" in d.reasons[0].message
    waiting = decide(request(escort=None), SMELTING, POLICY)
    assert "Wang Wei" in waiting.reasons[0].message


def test_R10_substitute_on_the_form_is_an_escort_of_record() -> None:
    sub = form({"smelting"}, at(2026, 11, 1), at(2026, 12, 1), escorts=(WANG, EscortOfRecord(901, "Zhao Lei")))
    assert rules_of(request(visitor(forms=(sub,)), escort=escort(person_id=901, name="Zhao Lei"))) == []


def test_R10_escort_of_the_zones_department_needs_no_explicit_right() -> None:
    assert rules_of(request(escort=escort(escort_zones=frozenset()))) == []


def test_R17_banned_escort_may_not_escort() -> None:
    d = decide(request(escort=escort(bans=(BanFact(date(2026, 12, 1)),))), SMELTING, POLICY)
    assert [r.code for r in d.reasons] == ["escort-banned"] and d.rules() == ["R17"]


def test_R10_missing_escort_alone_means_wait_for_escort() -> None:
    d = decide(request(escort=None), SMELTING, POLICY)
    assert d.needs_escort and not d.allowed
    d2 = decide(request(visitor(helmet=False), escort=None), SMELTING, POLICY)
    assert not d2.needs_escort and d2.rules() == ["R10", "R12"]


def test_R10_denial_says_within_the_window_only_after_the_gate_waited() -> None:
    at_once = decide(request(visitor(helmet=False), escort=None), SMELTING, POLICY).reasons[0]
    assert "within" not in at_once.message and "秒" not in render(at_once, "zh")
    waited = decide(request(escort=None, escort_waited=True), SMELTING, POLICY)
    assert not waited.needs_escort and [r.code for r in waited.reasons] == ["no-escort-waited"]
    assert f"within {POLICY.escort_window_s:g} s" in waited.reasons[0].message
    assert render(waited.reasons[0], "zh").startswith(f"{POLICY.escort_window_s:g} 秒内")


# --- R11 minors --------------------------------------------------------------------
@pytest.mark.parametrize(
    "born, allowed",
    [
        (date(2008, 11, 24), True),  # 18th birthday on the day of entry
        (date(2008, 11, 25), False),  # 18 tomorrow: still a minor today
        (date(2015, 1, 1), False),
    ],
)
def test_R11_no_minors(born: date, allowed: bool) -> None:
    assert rules_of(request(visitor(birth_date=born))) == ([] if allowed else ["R11"])


def test_R11_unknown_birth_date_denied() -> None:
    assert rules_of(request(visitor(birth_date=None))) == ["R11"]


def test_R11_leap_day_birthday() -> None:
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


# --- R12 helmet --------------------------------------------------------------------
def test_R12_helmet_zone_denies_without_helmet() -> None:
    assert rules_of(request(visitor(helmet=False))) == ["R12"]
    assert rules_of(request(visitor(helmet=False)), ASSEMBLY) == []


# --- R14 hours and night -----------------------------------------------------------
@pytest.mark.parametrize("hh, mm, allowed", [(5, 59, False), (6, 0, True), (21, 59, True), (22, 0, False)])
def test_R14_zone_opening_hours(hh: int, mm: int, allowed: bool) -> None:
    night_escort = escort(dispatch_room=True)  # keep the night rule out of this table
    assert rules_of(request(escort=night_escort, now=at(2026, 11, 24, hh, mm))) == ([] if allowed else ["R14"])


def test_R14_form_may_allow_entry_outside_hours() -> None:
    night_form = form({"smelting"}, at(2026, 11, 1), at(2026, 12, 1), outside_hours=True)
    req = request(visitor(forms=(night_form,)), escort=escort(dispatch_room=True), now=at(2026, 11, 24, 23, 30))
    assert rules_of(req) == []


@pytest.mark.parametrize(
    "local_time, night",
    [
        ((19, 59), False),
        ((20, 0), True),
        ((23, 59), True),
        ((0, 0), True),
        ((6, 59), True),
        ((7, 0), False),
    ],
)
def test_R14_night_window_crosses_midnight_in_site_timezone(local_time: tuple[int, int], night: bool) -> None:
    # The general zone has no opening hours, so only the night rule is in play.
    now = at(2026, 11, 24, *local_time)
    assert rules_of(request(now=now), ASSEMBLY) == (["R14"] if night else [])
    assert rules_of(request(now=now, escort=escort(dispatch_room=True)), ASSEMBLY) == []


def test_R14_night_is_judged_in_site_time_not_utc() -> None:
    # 12:30 UTC is 20:30 in Shanghai: night at the site although it is midday in UTC.
    now = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    assert rules_of(request(now=now), ASSEMBLY) == ["R14"]


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        decide(request(now=datetime(2026, 11, 24, 10)), SMELTING, POLICY)


# --- R15 capacity and anti-passback ---------------------------------------------------
def test_R15_zone_at_maximum_occupancy() -> None:
    assert rules_of(request(occupancy=39)) == []
    assert rules_of(request(occupancy=40)) == ["R15"]


def test_R15_anti_passback() -> None:
    assert [r.code for r in decide(request(inside=True), SMELTING, POLICY).reasons] == ["passback"]


# --- R16 emergency -----------------------------------------------------------------
def test_R16_emergency_locks_entries_for_everyone() -> None:
    assert rules_of(request(emergency=True)) == ["R16"]
    assert rules_of(request(escort(), card="E900", emergency=True)) == ["R16"]


# --- R17 bans ----------------------------------------------------------------------
@pytest.mark.parametrize("until, allowed", [(date(2026, 11, 24), False), (date(2026, 11, 23), True)])
def test_R17_ban_until_inclusive(until: date, allowed: bool) -> None:
    assert rules_of(request(visitor(bans=(BanFact(until),)))) == ([] if allowed else ["R17"])


def test_R17_ban_binds_employees_too() -> None:
    emp = escort(bans=(BanFact(date(2026, 11, 30)),))
    assert rules_of(request(emp, card="E900", escort=None)) == ["R17"]


# --- R21 open incidents ---------------------------------------------------------------
def test_R21_person_in_an_open_a_or_b_incident_is_denied() -> None:
    d = decide(request(visitor(incident_hold=True)), SMELTING, POLICY)
    assert d.rules() == ["R21"] and "incident" in d.reasons[0].message
    assert rules_of(request(escort(incident_hold=True), card="E900", escort=None)) == ["R21"]


# --- employees ---------------------------------------------------------------------
def test_employee_needs_active_card_and_authorised_zone() -> None:
    emp = escort(escort_zones=frozenset(), access_zones=frozenset({"smelting"}))
    assert rules_of(request(emp, card="E900", escort=None)) == []
    assert rules_of(request(emp, card="E900", escort=None), ASSEMBLY) == ["E1"]
    assert rules_of(request(replace(emp, badge="lost"), card="E900", escort=None)) == ["R3"]


def test_escort_rights_let_the_escort_enter() -> None:
    emp = escort(access_zones=frozenset())
    assert rules_of(request(emp, card="E900", escort=None), ASSEMBLY) == []


# --- every failing rule is listed ----------------------------------------------------
def test_denial_lists_every_failing_rule_not_the_first() -> None:
    person = visitor(forms=(), education=(), helmet=False, birth_date=date(2012, 1, 1))
    assert rules_of(request(person, escort=None, inside=True, emergency=True)) == [
        "R16",
        "R15",
        "R5",
        "R8",
        "R10",
        "R11",
        "R12",
    ]


def test_calendar_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 3) == date(2027, 3, 15)


def test_every_message_renders_in_chinese() -> None:
    d = decide(request(visitor(forms=(), helmet=False), escort=None), SMELTING, POLICY)
    zh = [render(r, "zh") for r in d.reasons]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in zh)
    assert all(len(v) == 3 for v in MESSAGES.values())
