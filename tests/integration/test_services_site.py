"""Services: breaches and sanctions (R17), emergency and muster (R16), anti-passback reset
(R15), monthly statistics (R19) and the events query (R18)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.education import educate
from zones.central import read_site_state, ship_events
from zones.errors import NotAllowed, NotFound, ValidationFailed
from zones.schema import Ban, Change, Presence
from zones.services import (
    active_ban,
    approve_contact_form,
    book_visit,
    check_in,
    create_contact_form,
    mark_accounted,
    monthly_stats,
    muster,
    query_events,
    record_breach,
    register_visitor,
    reset_passback,
    set_emergency,
)
from zones.services.alerts import open_alert

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def visitor(session):
    return register_visitor(session, name="Li Lei", id_type="passport", id_number="P1")


@pytest.fixture
def on_site(session, visitor, demo_staff):
    v = book_visit(session, visitor_id=visitor.id, host_id=demo_staff.escort.id, purpose="audit")
    return check_in(session, v.id, "P1", now=NOW)


def _passage(key, person_id, zone, at, direction="in", escort_id=None):
    return dict(
        key=key,
        at=at,
        gate=f"{zone}-{direction}",
        zone=zone,
        controller="c1",
        kind="passage",
        card="C",
        person_id=person_id,
        escort_id=escort_id,
        allowed=True,
        reasons=[],
        passed=True,
        direction=direction,
        detail={},
    )


def test_R17_warning_keeps_the_visit(session, visitor, on_site, demo_staff):
    b = record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=2,
        severity="warning",
        seen_by=demo_staff.guard.id,
        note="phone out",
        now=NOW,
    )
    assert (b.visit_id, on_site.state) == (on_site.id, "on-site")


def test_R17_cancel_visit_closes_the_visit(session, visitor, on_site, demo_staff):
    record_breach(
        session,
        person_id=visitor.id,
        rule="R10",
        severity="cancel-visit",
        seen_by=demo_staff.guard.id,
        note="walked off alone",
        now=NOW,
    )
    assert on_site.state == "closed" and "R10" in on_site.flagged
    assert session.scalars(select(Change.what).where(Change.person_id == visitor.id)).all()[-1] == "breach"


def test_R17_ban_lasts_n_days(session, visitor, on_site, demo_staff):
    record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=1,
        severity="ban",
        days=30,
        seen_by=demo_staff.guard.id,
        note="smoking",
        now=NOW,
    )
    ban = session.scalars(select(Ban)).one()
    assert ban.until == date(2026, 4, 9) and "smoking" in ban.reason
    assert active_ban(session, visitor.id, date(2026, 4, 9)) is not None
    assert active_ban(session, visitor.id, date(2026, 4, 10)) is None
    assert on_site.state == "closed"


def test_R17_unregistered_guest_counts_against_the_employee(session, demo_staff):
    b = record_breach(
        session,
        person_id=demo_staff.escort.id,
        rule="R1",
        severity="warning",
        seen_by=demo_staff.guard.id,
        note="brought a friend in unregistered",
        now=NOW,
    )
    assert b.person_id == demo_staff.escort.id
    with pytest.raises(ValidationFailed):  # an employee has no visit to cancel
        record_breach(
            session, person_id=demo_staff.escort.id, rule="R1", severity="cancel-visit", seen_by=demo_staff.guard.id
        )


def test_R17_breach_input_is_validated(session, visitor, demo_staff):
    with pytest.raises(ValidationFailed) as info:
        record_breach(session, person_id=visitor.id, rule="R99", severity="ban", seen_by=demo_staff.guard.id)
    assert [f for f, _ in info.value.fields] == ["rule", "days"]
    with pytest.raises(NotFound):
        record_breach(session, person_id=424242, rule="R13", severity="warning", seen_by=demo_staff.guard.id)
    with pytest.raises(ValidationFailed) as info:  # R13 names the prohibition, 1-7
        record_breach(session, person_id=visitor.id, rule="R13", severity="warning", seen_by=demo_staff.guard.id)
    assert [f for f, _ in info.value.fields] == ["prohibition"]
    for rule, prohibition in (("R13", 8), ("R10", 7)):
        with pytest.raises(ValidationFailed) as info:
            record_breach(
                session,
                person_id=visitor.id,
                rule=rule,
                prohibition=prohibition,
                severity="warning",
                seen_by=demo_staff.guard.id,
            )
        assert [f for f, _ in info.value.fields] == ["prohibition"]


def _approved_form(session, visitor_id, staff, zones, escort_ids):
    form = create_contact_form(
        session,
        visitor_id=visitor_id,
        zones=["smelting"],
        escort_ids=escort_ids,
        purpose="audit",
        valid_from=NOW - timedelta(hours=1),
        valid_until=NOW + timedelta(hours=8),
        known_zones=zones,
        now=NOW,
    )
    approve_contact_form(session, form.id, staff.officer_steel.id, zones, now=NOW)
    return form


def test_R17_a_breach_names_the_escort_in_charge_at_that_moment(session, visitor, on_site, demo_staff, demo_zones):
    _approved_form(session, visitor.id, demo_staff, demo_zones, [demo_staff.escort.id, demo_staff.head_steel.id])
    # outside the zones: the escort of record (the first the form names)
    yard = record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=2,
        severity="warning",
        seen_by=demo_staff.guard.id,
        now=NOW,
    )
    assert (yard.prohibition, yard.escort_id) == (2, demo_staff.escort.id)
    # inside: the escort they passed the gate with
    ship_events(session, [_passage("p1", visitor.id, "smelting", NOW, escort_id=demo_staff.head_steel.id)])
    inside = record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=3,
        severity="warning",
        seen_by=demo_staff.guard.id,
        now=NOW + timedelta(minutes=5),
    )
    assert inside.escort_id == demo_staff.head_steel.id
    stats = monthly_stats(session, "2026-03", timezone="Asia/Shanghai")
    assert stats["breaches"]["by_prohibition"] == {"2": 1, "3": 1}
    assert stats["breaches"]["by_escort"] == [
        {"escort_id": demo_staff.escort.id, "name": "Eve Escort", "count": 1},
        {"escort_id": demo_staff.head_steel.id, "name": "Hank Head", "count": 1},
    ]


def test_R17_ban_binds_an_employee_and_counts_in_the_site_calendar(session, demo_staff):
    # 17:30 UTC on 9 March is 01:30 on 10 March in Shanghai: a one-day ban runs through 11 March
    late = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)
    b = record_breach(
        session,
        person_id=demo_staff.escort.id,
        rule="R10",
        severity="ban",
        days=1,
        seen_by=demo_staff.officer_steel.id,
        note="left visitors alone",
        timezone="Asia/Shanghai",
        now=late,
    )
    assert (b.escort_id, b.visit_id) == (None, None)
    ban = session.scalars(select(Ban)).one()
    assert (ban.person_id, ban.until) == (demo_staff.escort.id, date(2026, 3, 11))
    assert active_ban(session, demo_staff.escort.id, date(2026, 3, 11)) is not None
    assert active_ban(session, demo_staff.escort.id, date(2026, 3, 12)) is None


def test_R16_emergency_is_set_by_officer_or_alarm_and_clears_accounted_marks(session, visitor, on_site, demo_staff):
    ship_events(session, [_passage("p1", visitor.id, "smelting", NOW)])
    mark_accounted(session, visitor.id)
    with pytest.raises(NotAllowed):
        set_emergency(session, True, "fire", demo_staff.reception.id)
    with pytest.raises(ValidationFailed):
        set_emergency(session, True, " ", demo_staff.officer_steel.id)
    state = set_emergency(session, True, "fire in smelting", demo_staff.officer_steel.id, now=NOW)
    assert (state.emergency_active, state.emergency_since) == (True, NOW)
    flags = read_site_state(session)
    assert (flags.emergency_active, flags.emergency_reason, flags.emergency_source) == (
        True,
        "fire in smelting",
        f"employee:{demo_staff.officer_steel.id}",
    )
    assert session.get(Presence, visitor.id).accounted is False
    listed = muster(session)
    assert [(r.zone, r.person.name, r.escort) for r in listed.rows] == [("smelting", "Li Lei", None)]
    assert listed.emergency.emergency_active and [r.person.name for r in listed.missing] == ["Li Lei"]
    mark_accounted(session, visitor.id)
    assert session.get(Presence, visitor.id).accounted is True
    set_emergency(session, False, "", "alarm:smelting-east")
    assert read_site_state(session).emergency_active is False
    with pytest.raises(NotFound):
        mark_accounted(session, demo_staff.guard.id)


def test_R16_the_muster_lists_visitors_on_site_outside_the_gated_zones(
    session, visitor, on_site, demo_staff, demo_zones
):
    _approved_form(session, visitor.id, demo_staff, demo_zones, [demo_staff.escort.id])
    other = register_visitor(session, name="Ma Li", id_type="passport", id_number="P2")
    inside_visit = book_visit(session, visitor_id=other.id, host_id=demo_staff.reception.id, purpose="audit")
    check_in(session, inside_visit.id, "P2", now=NOW)
    booked = register_visitor(session, name="Not Yet Arrived", id_type="passport", id_number="P3")
    book_visit(session, visitor_id=booked.id, host_id=demo_staff.reception.id, purpose="audit")
    ship_events(session, [_passage("p1", other.id, "smelting", NOW, escort_id=demo_staff.head_steel.id)])

    listed = muster(session, NOW)
    assert [(r.zone, r.person.name) for r in listed.rows] == [("smelting", "Ma Li"), (None, "Li Lei")]
    yard = listed.rows[1]
    assert (yard.host.name, yard.escort.name, yard.accounted) == ("Eve Escort", "Eve Escort", False)
    assert list(listed.by_zone(["assembly", "smelting"])) == ["assembly", "smelting", None]
    assert [r.person.name for r in listed.missing] == ["Ma Li", "Li Lei"]

    # escorts mark their own visitors; wardens anyone
    with pytest.raises(NotAllowed, match="R16"):
        mark_accounted(session, other.id, escort_id=demo_staff.escort.id, now=NOW)
    assert mark_accounted(session, visitor.id, escort_id=demo_staff.escort.id, now=NOW).accounted is True
    mark_accounted(session, other.id)
    assert muster(session).missing == []
    set_emergency(session, True, "drill", demo_staff.officer_steel.id, now=NOW)  # a new emergency: all missing again
    assert [r.person.name for r in muster(session).missing] == ["Ma Li", "Li Lei"]
    with pytest.raises(NotFound):
        mark_accounted(session, booked.id)  # not on site


def test_R16_ending_with_people_missing_needs_a_reason_and_the_journal_names_who(session, visitor, on_site, demo_staff):
    officer = demo_staff.officer_steel.id
    ship_events(session, [_passage("p1", visitor.id, "smelting", NOW)])
    set_emergency(session, True, "  gas alarm  ", officer, now=NOW)
    with pytest.raises(ValidationFailed) as refused:  # Li Lei is still missing
        set_emergency(session, False, " ", officer, now=NOW + timedelta(minutes=5))
    assert [field for field, _ in refused.value.fields] == ["reason"]
    session.rollback()
    assert read_site_state(session).emergency_active is True  # nothing ended
    set_emergency(session, False, "brigade: all clear", officer, now=NOW + timedelta(minutes=6))
    assert read_site_state(session).emergency_active is False
    set_emergency(session, False, "", officer)  # ending what is not on: no new journal row

    journal, _ = query_events(session, kind="emergency")
    assert [(e["at"], e["gate"], e["detail"]["active"], e["detail"]["by"], e["detail"]["reason"]) for e in journal] == [
        (NOW + timedelta(minutes=6), None, False, officer, "brigade: all clear"),
        (NOW, None, True, officer, "gas alarm"),
    ]
    assert [e["detail"]["missing"] for e in journal] == [1, 1]
    # nobody missing: ending needs no reason; an alarm clearing never does
    set_emergency(session, True, "drill", officer)
    mark_accounted(session, visitor.id, by=officer)
    set_emergency(session, False, "", officer)
    set_emergency(session, True, "alarm input", "alarm:smelting-east")
    set_emergency(session, False, "", "alarm:smelting-east")
    assert read_site_state(session).emergency_active is False


def test_R16_each_mark_says_who_made_it_and_when(session, visitor, on_site, demo_staff):
    ship_events(session, [_passage("p1", visitor.id, "smelting", NOW, escort_id=demo_staff.escort.id)])
    set_emergency(session, True, "fire", demo_staff.officer_steel.id, now=NOW)
    later = NOW + timedelta(minutes=3)
    row = mark_accounted(session, visitor.id, by=demo_staff.escort.id, escort_id=demo_staff.escort.id, now=later)
    assert (row.marked_by.name, row.marked_at) == ("Eve Escort", later)
    (listed,) = muster(session).rows
    assert (listed.accounted, listed.marked_by.name, listed.marked_at) == (True, "Eve Escort", later)
    mark_accounted(session, visitor.id, False, by=demo_staff.guard.id)  # undone: no marker shown
    (listed,) = muster(session).rows
    assert (listed.accounted, listed.marked_by, listed.marked_at) == (False, None, None)
    mark_accounted(session, visitor.id, by=demo_staff.guard.id)
    set_emergency(session, True, "fire again", demo_staff.officer_steel.id)  # still on: marks stay
    assert muster(session).rows[0].marked_by.name == "Gus Guard"
    set_emergency(session, False, "", demo_staff.officer_steel.id)
    set_emergency(session, True, "new fire", demo_staff.officer_steel.id)  # a new one clears them
    assert [(r.accounted, r.marked_by) for r in muster(session).rows] == [(False, None)]


def test_R16_R20_the_escort_of_record_sees_the_visitors_phone_only_during_an_emergency(
    session, visitor, on_site, demo_staff, demo_zones
):
    escort, other = demo_staff.escort.id, demo_staff.head_steel.id
    theirs = register_visitor(session, name="Ma Li", id_type="passport", id_number="P2", phone="13600002222")
    check_in(session, book_visit(session, visitor_id=theirs.id, host_id=escort, purpose="audit").id, "P2", now=NOW)
    ship_events(session, [_passage("p1", theirs.id, "smelting", NOW, escort_id=other)])
    _approved_form(session, visitor.id, demo_staff, demo_zones, [escort])  # Li Lei: outside the zones
    assert muster(session, NOW).phones_in_clear(escort) == set()  # no emergency: masked (R20)
    set_emergency(session, True, "fire", demo_staff.officer_steel.id, now=NOW)
    listed = muster(session, NOW)
    assert listed.phones_in_clear(escort) == {visitor.id}  # their form's escort; Ma Li is in Hank's charge
    assert listed.phones_in_clear(other) == {theirs.id}
    assert listed.phones_in_clear(demo_staff.guard.id) == set()


def test_R16_the_muster_is_three_selects_whatever_the_number_on_site(session, demo_staff, demo_zones):
    """No per-row query (issue 12: 5,000 on site within 200 ms): the people inside, the
    visitors outside the zones, the staff they name; plus the site state."""
    from sqlalchemy import event

    for i in range(30):
        v = register_visitor(session, name=f"Guest {i:02d}", id_type="passport", id_number=f"G{i}")
        check_in(session, book_visit(session, visitor_id=v.id, host_id=demo_staff.escort.id, purpose="x").id, f"G{i}")
        if i % 2:
            _approved_form(session, v.id, demo_staff, demo_zones, [demo_staff.escort.id])
            ship_events(session, [_passage(f"p{i}", v.id, "smelting", NOW, escort_id=demo_staff.escort.id)])
    set_emergency(session, True, "drill", demo_staff.officer_steel.id)
    for i, row in enumerate(muster(session).rows[:10]):
        mark_accounted(session, row.person.id, by=demo_staff.guard.id if i % 2 else demo_staff.escort.id)
    session.expire_all()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        listed = muster(session)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len(listed.rows) == 30 and len(listed.missing) == 20
    assert [r.zone for r in listed.rows] == ["smelting"] * 15 + [None] * 15
    assert {r.marked_by.name for r in listed.rows if r.accounted} == {"Eve Escort", "Gus Guard"}
    assert {r.escort.name for r in listed.rows if r.zone} == {"Eve Escort"}  # they passed with her
    assert {r.escort for r in listed.rows if r.zone is None} == {None}  # no form: no escort of record
    assert {r.host.name for r in listed.rows if r.zone is None} == {"Eve Escort"}
    assert len(statements) <= 4, statements


def test_R19_unescorted_alerts_are_counted_by_the_month_they_opened(session, visitor):
    for key, at in (("u1", datetime(2026, 3, 31, 15, 0, tzinfo=UTC)), ("u2", datetime(2026, 3, 31, 17, 0, tzinfo=UTC))):
        open_alert(session, key=key, kind="unescorted", at=at, person_id=visitor.id)
    open_alert(session, key="i1", kind="incident", at=datetime(2026, 3, 10, tzinfo=UTC))
    session.commit()
    # 17:00 UTC on 31 March is 1 April in Shanghai
    assert monthly_stats(session, "2026-03", timezone="Asia/Shanghai")["alerts"] == {"unescorted": 1}
    assert monthly_stats(session, "2026-04", timezone="Asia/Shanghai")["alerts"] == {"unescorted": 1}


def test_R15_passback_reset_needs_a_safety_officer(session, visitor, on_site, demo_staff):
    ship_events(session, [_passage("p1", visitor.id, "smelting", NOW)])
    with pytest.raises(NotAllowed):
        reset_passback(session, visitor.id, "smelting", demo_staff.guard.id)
    assert reset_passback(session, visitor.id, "smelting", demo_staff.officer_steel.id) is True
    assert session.get(Presence, visitor.id) is None
    assert reset_passback(session, visitor.id, "smelting", demo_staff.officer_steel.id) is False


def _decision(key, at, allowed, rules, zone="smelting"):
    return dict(
        key=key,
        at=at,
        gate=f"{zone}-east",
        zone=zone,
        controller="c1",
        kind="decision",
        card="C",
        person_id=None,
        escort_id=None,
        allowed=allowed,
        passed=None,
        direction="in",
        detail={},
        reasons=[{"rule": r, "code": r.lower(), "message": f"{r} failed", "params": {}} for r in rules],
    )


def test_R19_monthly_statistics(session, visitor, on_site, demo_staff):
    march = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)
    ship_events(
        session,
        [
            _decision("d1", march, False, ["R5", "R8"]),
            _decision("d2", march, False, ["R5"]),
            _decision("d3", march, True, []),
            _decision("d4", datetime(2026, 4, 1, 4, 0, tzinfo=UTC), False, ["R11"]),  # April in Shanghai
        ],
    )
    record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=5,
        severity="warning",
        seen_by=demo_staff.guard.id,
        now=march,
    )
    educate(
        session, visitor_id=visitor.id, educator_id=demo_staff.officer_steel.id, delivered_at=march, method="verbal"
    )
    stats = monthly_stats(session, "2026-03", timezone="Asia/Shanghai")
    assert stats["denials"] == {"total": 2, "by_rule": {"R5": 2, "R8": 1}}
    assert stats["breaches"]["by_severity"] == {"warning": 1}
    assert stats["breaches"]["by_prohibition"] == {"5": 1}
    assert stats["educations"] == {"total": 1, "by_method": {"verbal": 1}}
    assert stats["visits"]["arrived"] == 1
    assert monthly_stats(session, "2026-04", timezone="Asia/Shanghai")["denials"]["by_rule"] == {"R11": 1}
    with pytest.raises(ValidationFailed):
        monthly_stats(session, "2026-13")


def test_R18_events_query_filters_and_pages_newest_first(session):
    base = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
    ship_events(
        session,
        [
            _decision(
                f"e{i}",
                base + timedelta(minutes=i),
                i % 2 == 0,
                [] if i % 2 == 0 else ["R5"],
                zone="smelting" if i < 6 else "assembly",
            )
            for i in range(10)
        ],
    )
    page, cursor = query_events(session, limit=4)
    assert [e["key"] for e in page] == ["e9", "e8", "e7", "e6"]
    page2, cursor2 = query_events(session, limit=4, cursor=cursor)
    assert [e["key"] for e in page2] == ["e5", "e4", "e3", "e2"]
    page3, cursor3 = query_events(session, limit=4, cursor=cursor2)
    assert ([e["key"] for e in page3], cursor3) == (["e1", "e0"], None)
    denied, _ = query_events(session, zone="smelting", allowed=False)
    assert [e["key"] for e in denied] == ["e5", "e3", "e1"]
    assert denied[0]["reasons"][0]["rule"] == "R5" and denied[0]["at"] == base + timedelta(minutes=5)
    window, _ = query_events(session, since=base + timedelta(minutes=2), until=base + timedelta(minutes=4))
    assert [e["key"] for e in window] == ["e3", "e2"]
    with pytest.raises(ValidationFailed):
        query_events(session, limit=0)
