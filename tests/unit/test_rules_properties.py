"""Properties of the rules engine over generated requests (hypothesis).

1. Removing any one required fact from an allowed request turns it into a denial that
   names that fact's rule.
2. A denial never has an empty reason list, and an allowance never has reasons.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_rules import ASSEMBLY, SHANGHAI, SMELTING, WANG, escort
from zones.calendar import add_months
from zones.facts import BanFact, EducationFact, EntryRequest, FormFact, PersonFacts, Policy, VisitFact
from zones.rules import decide

POLICY = Policy()
ZONES = [SMELTING, ASSEMBLY]


@st.composite
def allowed_requests(draw: st.DrawFn) -> tuple[EntryRequest, object]:
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.dates(date(2025, 1, 1), date(2030, 12, 31)))
    # Inside the smelting hours and outside the night window, or with a dispatch escort.
    clock = draw(st.times(time(7, 0), time(19, 59)))
    now = datetime.combine(day, clock, SHANGHAI)
    age_days = draw(st.integers(18 * 366, 80 * 365))
    educated = day - timedelta(days=draw(st.integers(0, 88)))
    assert add_months(educated, POLICY.education_valid_months) >= day
    form = FormFact(
        zones=frozenset({zone.id}),
        valid_from=now - timedelta(minutes=draw(st.integers(0, 10_000))),
        valid_until=now + timedelta(minutes=draw(st.integers(0, 10_000))),
        escorts=(WANG,),
    )
    person = PersonFacts(
        person_id=draw(st.integers(1, 10**9)),
        kind="visitor",
        name="V",
        card="C1",
        birth_date=day - timedelta(days=age_days),
        visit=VisitFact("on-site", booked_ahead=draw(st.booleans()), walk_in_approved=True),
        forms=(form,),
        education=(EducationFact(zone.department, educated, notification_signed=True, zones=frozenset({zone.id})),),
        helmet=True,
        bans=draw(st.sampled_from([(), (BanFact(day - timedelta(days=1)),)])),
    )
    charge = draw(st.integers(0, POLICY.escort_max_visitors - 1))
    occupancy = draw(st.integers(0, (zone.max_occupancy or 100) - 1))
    req = EntryRequest(card="C1", person=person, now=now, escort=escort(), escort_charge=charge, occupancy=occupancy)
    return req, zone


def _remove(req: EntryRequest, fact: str) -> EntryRequest:
    p = req.person
    assert p is not None
    removals = {
        "visit": lambda: replace(req, person=replace(p, visit=None)),
        "badge": lambda: replace(req, person=replace(p, badge="lost")),
        "card": lambda: replace(req, person=None),
        "form": lambda: replace(req, person=replace(p, forms=())),
        "education": lambda: replace(req, person=replace(p, education=())),
        "escort": lambda: replace(req, escort=None),
        "birth_date": lambda: replace(req, person=replace(p, birth_date=None)),
        "helmet": lambda: replace(req, person=replace(p, helmet=False)),
        "notification_card": lambda: replace(
            req, person=replace(p, education=tuple(replace(e, notification_signed=False) for e in p.education))
        ),
        "card_names_zone": lambda: replace(
            req, person=replace(p, education=tuple(replace(e, zones=frozenset({"elsewhere"})) for e in p.education))
        ),
        "escort_of_record": lambda: replace(req, escort=escort(person_id=901, name="Zhao Lei")),
        "no_ban": lambda: replace(req, person=replace(p, bans=(BanFact(req.now.date() + timedelta(days=1)),))),
        "no_incident": lambda: replace(req, person=replace(p, incident_hold=True)),
    }
    return removals[fact]()


RULE_OF_FACT = {
    "visit": "R1",
    "badge": "R3",
    "card": "R3",
    "form": "R5",
    "education": "R8",
    "escort": "R10",
    "birth_date": "R11",
    "helmet": "R12",
    "notification_card": "R7",
    "card_names_zone": "R9",
    "escort_of_record": "R10",
    "no_ban": "R17",
    "no_incident": "R21",
}


@settings(max_examples=300, deadline=None)
@given(allowed_requests(), st.sampled_from(sorted(RULE_OF_FACT)))
def test_removing_one_required_fact_denies_with_its_rule(case: tuple[EntryRequest, object], fact: str) -> None:
    req, zone = case
    assert decide(req, zone, POLICY).allowed  # type: ignore[arg-type]
    if fact in ("helmet", "card_names_zone") and zone is ASSEMBLY:
        return  # the general assembly hall needs neither a helmet (R12) nor a card naming it (R9)
    decision = decide(_remove(req, fact), zone, POLICY)  # type: ignore[arg-type]
    assert not decision.allowed
    assert RULE_OF_FACT[fact] in decision.rules()


@settings(max_examples=300, deadline=None)
@given(
    allowed_requests(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(0, 60),
    st.sampled_from(["active", "lost", "returned"]),
)
def test_denial_always_has_reasons(
    case: tuple[EntryRequest, object], no_escort: bool, inside: bool, emergency: bool, occupancy: int, badge: str
) -> None:
    req, zone = case
    assert req.person is not None
    req = replace(
        req,
        escort=None if no_escort else req.escort,
        inside=inside,
        emergency=emergency,
        occupancy=occupancy,
        person=replace(req.person, badge=badge),  # type: ignore[arg-type]  # drawn from the BadgeState values
    )
    decision = decide(req, zone, POLICY)  # type: ignore[arg-type]
    assert decision.allowed == (decision.reasons == ())
    if not decision.allowed:
        assert all(r.rule and r.message for r in decision.reasons)
