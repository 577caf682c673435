"""The controller's snapshot (zones.snapshot) and central writes (zones.central): lost badges
(R3), refresh by change number, idempotent event shipping (R18) that maintains presence
(R15, R16), gate health."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.education import educate
from zones.calendar import local
from zones.central import current_change_no, report_gate_health, ship_events
from zones.schema import Event, GateHealth, Visit
from zones.services import (
    approve_contact_form,
    book_visit,
    check_in,
    create_contact_form,
    create_user,
    issue_badge,
    issue_helmet,
    record_breach,
    register_visitor,
    report_badge_lost,
    return_helmet,
    revoke_contact_form,
    set_department_head,
    set_emergency,
    update_employee,
)
from zones.snapshot import build_snapshot, refresh_snapshot

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@pytest.fixture
def visitor(session, demo_staff):
    v = register_visitor(session, name="Li Lei", id_type="resident_id", id_number="11010519491231002X")
    visit = book_visit(session, visitor_id=v.id, host_id=demo_staff.escort.id, purpose="audit")
    check_in(session, visit.id, "11010519491231002X", now=NOW)
    issue_badge(session, visit.id, "B1", now=NOW)
    return v


def _form(session, visitor, staff):
    return create_contact_form(
        session,
        visitor_id=visitor.id,
        zones=["smelting"],
        escort_id=staff.escort.id,
        purpose="inspection",
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=8),
    )


def test_snapshot_holds_visitor_and_employee_facts(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff)
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones)
    educate(session, visitor_id=visitor.id, educator_id=demo_staff.officer_steel.id, delivered_at=NOW)
    issue_helmet(session, visitor.id, "H-3", now=NOW)
    snap = build_snapshot(session, TODAY)
    v = snap.by_card["B1"]
    assert (v.person_id, v.kind, v.badge, v.birth_date) == (visitor.id, "visitor", "active", date(1949, 12, 31))
    assert (v.visit.state, v.visit.booked_ahead, v.visit.walk_in_approved) == ("on-site", True, False)
    assert [(f.zones, [e.person_id for e in f.escorts]) for f in v.forms] == [
        (frozenset({"smelting"}), [demo_staff.escort.id])
    ]
    assert [(e.department, e.notification_signed) for e in v.education] == [("steelmaking", True)]
    assert v.helmet and v.phone is None  # R20: phones stay out of the controllers
    e = snap.by_card[demo_staff.escort.card]
    assert (e.kind, e.department, e.escort_zones, e.on_duty) == (
        "employee",
        "steelmaking",
        frozenset({"assembly", "smelting"}),
        True,
    )
    assert snap.by_id[visitor.id] is v and snap.by_id[demo_staff.admin.id].card is None
    assert snap.change_no == current_change_no(session) and snap.emergency is False
    # identical zone sets are one shared object (memory: 2,000,000 cardholders)
    twin, _ = create_user(session, "Tom Twin", "escort", escort_zones=["smelting", "assembly"], card="E9")
    snap = build_snapshot(session, TODAY)
    assert snap.by_id[twin.id].escort_zones is snap.by_id[demo_staff.escort.id].escort_zones


def test_R3_lost_badge_appears_as_lost(session, visitor, demo_staff):
    snap = build_snapshot(session, TODAY)
    report_badge_lost(session, "B1")
    snap = refresh_snapshot(session, snap, TODAY)
    assert snap.by_card["B1"].badge == "lost"
    # a new badge for the visitor: the new card works, the lost card stays blocked
    visit_id = session.scalar(select(Visit.id).where(Visit.visitor_id == visitor.id))
    issue_badge(session, visit_id, "B2", now=NOW)
    for s in (refresh_snapshot(session, snap, TODAY), build_snapshot(session, TODAY)):
        assert s.by_card["B2"].badge == "active" and s.by_card["B2"].person_id == visitor.id
        assert s.by_card["B1"].badge == "lost" and s.by_card["B1"].person_id == visitor.id
        assert s.by_id[visitor.id].card == "B2"


def test_snapshot_refresh_picks_up_a_new_approval_by_change_number(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff)
    snap = build_snapshot(session, TODAY)
    assert snap.by_card["B1"].forms == ()
    assert refresh_snapshot(session, snap, TODAY) is snap  # nothing changed: same object
    escort_facts = snap.by_card[demo_staff.escort.card]
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones)
    fresh = refresh_snapshot(session, snap, TODAY)
    assert fresh.change_no == snap.change_no + 1 == current_change_no(session)
    assert [(f.zones, f.valid_until) for f in fresh.by_card["B1"].forms] == [
        (frozenset({"smelting"}), form.valid_until)
    ]
    assert fresh.by_card[demo_staff.escort.card] is escort_facts  # unchanged persons are shared
    assert snap.by_card["B1"].forms == ()  # the old snapshot is untouched


def test_snapshot_refresh_sees_employee_changes_and_card_moves(session, demo_staff):
    snap = build_snapshot(session, TODAY)
    update_employee(session, demo_staff.escort.id, on_duty=False, card="E77")
    snap = refresh_snapshot(session, snap, TODAY)
    assert "E0000004" not in snap.by_card
    assert snap.by_card["E77"].on_duty is False
    update_employee(session, demo_staff.escort.id, active=False)
    snap = refresh_snapshot(session, snap, TODAY)
    assert "E77" not in snap.by_card and demo_staff.escort.id not in snap.by_id


def test_R17_ban_and_emergency_reach_the_snapshot(session, visitor, demo_staff):
    snap = build_snapshot(session, TODAY)
    record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=1,
        severity="ban",
        days=7,
        seen_by=demo_staff.guard.id,
        now=NOW,
    )
    set_emergency(session, True, "fire", demo_staff.officer_steel.id, now=NOW)
    fresh = refresh_snapshot(session, snap, TODAY)
    # R17: ban dates in the site's calendar
    assert [b.until for b in fresh.by_id[visitor.id].bans] == [local(NOW, "Asia/Shanghai").date() + timedelta(days=7)]
    assert fresh.by_id[visitor.id].visit is None  # the ban closed the visit
    assert (fresh.emergency, fresh.emergency_since) == (True, NOW)


def test_snapshot_full_rebuild_when_a_change_names_nobody(session, visitor, demo_staff):
    snap = build_snapshot(session, TODAY)
    set_department_head(session, "assembly", demo_staff.officer_assembly.id)  # no change row: no decision
    assert refresh_snapshot(session, snap, TODAY) is snap
    from zones.services._common import record_change

    record_change(session, None, "bulk import")
    session.commit()
    fresh = refresh_snapshot(session, snap, TODAY)
    assert fresh.by_card["B1"] is not snap.by_card["B1"] and fresh.by_card["B1"] == snap.by_card["B1"]


def _same(refreshed, built) -> None:
    """What a gate can read from a snapshot, compared whole (maps as plain dicts)."""
    assert refreshed.change_no == built.change_no
    assert dict(refreshed.by_card) == dict(built.by_card)
    assert dict(refreshed.by_id) == dict(built.by_id)
    assert dict(refreshed.lost_cards) == dict(built.lost_cards)
    assert refreshed.presence == built.presence
    assert (refreshed.emergency, refreshed.emergency_since) == (built.emergency, built.emergency_since)


def test_refresh_after_mixed_changes_equals_a_fresh_build(session, visitor, demo_staff, demo_zones):
    """The partial read (changed ids only, SQL rendered once) and the full build must agree
    on every person, card, lost card and presence, refresh after refresh (R3, R5, R8, R12,
    R15, R17)."""
    other = register_visitor(session, name="Han Meimei", id_type="resident_id", id_number="110105198001010016")
    visit = book_visit(session, visitor_id=other.id, host_id=demo_staff.escort.id, purpose="audit")
    check_in(session, visit.id, "110105198001010016", now=NOW)
    issue_badge(session, visit.id, "B7", now=NOW)
    form = _form(session, visitor, demo_staff)
    snap = build_snapshot(session, TODAY)

    # round 1: a form approved, education, a helmet, a lost badge, an employee's card moved,
    # a ban, passages shipped (presence)
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones)
    educate(session, visitor_id=visitor.id, educator_id=demo_staff.officer_steel.id, delivered_at=NOW)
    issue_helmet(session, visitor.id, "H-1", now=NOW)
    report_badge_lost(session, "B7")
    update_employee(session, demo_staff.escort.id, card="E55", on_duty=False)
    record_breach(
        session,
        person_id=demo_staff.guard.id,
        rule="R13",
        prohibition=1,
        severity="ban",
        days=3,
        seen_by=demo_staff.officer_steel.id,
        now=NOW,
    )
    ship_events(
        session,
        [
            _passage("m:1", visitor.id, "smelting", NOW, escort_id=demo_staff.escort.id),
            _passage("m:2", demo_staff.escort.id, "smelting", NOW),
        ],
    )
    snap = refresh_snapshot(session, snap, TODAY)
    _same(snap, build_snapshot(session, TODAY))
    assert snap.by_card["B7"].badge == "lost" and "E55" in snap.by_card and snap.presence[visitor.id].zone == "smelting"

    # round 2: a new badge for the lost one, the form revoked, the helmet back, the escort
    # out, an employee gone, an emergency (a change naming nobody: presence re-read whole)
    issue_badge(session, visit.id, "B8", now=NOW)
    revoke_contact_form(session, form.id, demo_staff.officer_steel.id, zones=demo_zones)
    return_helmet(session, visitor.id, "H-1", now=NOW)
    ship_events(session, [_passage("m:3", demo_staff.escort.id, "smelting", NOW + timedelta(minutes=1), "out")])
    update_employee(session, demo_staff.guard.id, active=False)
    snap = refresh_snapshot(session, snap, TODAY)
    _same(snap, build_snapshot(session, TODAY))
    assert snap.by_card["B8"].badge == "active" and snap.by_card["B7"].badge == "lost"
    assert demo_staff.escort.id not in snap.presence and demo_staff.guard.id not in snap.by_id
    set_emergency(session, True, "fire", demo_staff.officer_steel.id, now=NOW)
    snap = refresh_snapshot(session, snap, TODAY)
    _same(snap, build_snapshot(session, TODAY))
    assert snap.emergency is True


def _passage(key, person_id, zone, at, direction="in", escort_id=None, passed=True):
    return dict(
        key=key,
        at=at,
        gate=f"{zone}-{direction}",
        zone=zone,
        controller="c1",
        kind="passage",
        card="B1",
        person_id=person_id,
        escort_id=escort_id,
        allowed=True,
        reasons=[],
        passed=passed,
        direction=direction,
        detail={"journal_seq": 1},
    )


def test_R18_ship_events_is_idempotent_and_maintains_presence(session, visitor, demo_staff):
    snap = build_snapshot(session, TODAY)
    first = [
        _passage("c1:1", visitor.id, "smelting", NOW, escort_id=demo_staff.escort.id),
        _passage("c1:2", demo_staff.escort.id, "smelting", NOW),
    ]
    assert ship_events(session, first) == 2
    assert ship_events(session, first) == 0  # re-shipped after a restart
    assert session.scalar(select(func.count()).select_from(Event)) == 2
    snap = refresh_snapshot(session, snap, TODAY)
    p = snap.presence[visitor.id]
    assert (p.zone, p.entered_at, p.escort_id, p.kind) == ("smelting", NOW, demo_staff.escort.id, "visitor")
    assert snap.presence[demo_staff.escort.id].kind == "employee"
    # a late-shipped older passage into another zone does not move them back in time
    assert (
        ship_events(
            session,
            [
                _passage("c2:1", visitor.id, "assembly", NOW - timedelta(minutes=5)),
                _passage("c2:2", visitor.id, "assembly", NOW, passed=False),
            ],
        )
        == 2
    )
    assert refresh_snapshot(session, snap, TODAY).presence[visitor.id].zone == "smelting"
    assert ship_events(session, [_passage("c1:3", visitor.id, "smelting", NOW + timedelta(minutes=1), "out")]) == 1
    snap = refresh_snapshot(session, snap, TODAY)
    assert visitor.id not in snap.presence and demo_staff.escort.id in snap.presence
    # decisions and faults are stored with their reasons as given
    ship_events(
        session,
        [
            dict(
                key="c1:4",
                at=NOW,
                gate="smelting-east",
                zone="smelting",
                controller="c1",
                kind="decision",
                card="B1",
                person_id=visitor.id,
                allowed=False,
                passed=None,
                reasons=[{"rule": "R5", "code": "no-form", "message": "no form", "params": {}}],
                detail={},
            )
        ],
    )
    stored = session.scalars(select(Event).where(Event.key == "c1:4")).one()
    assert stored.reasons[0]["rule"] == "R5" and stored.allowed is False and stored.at == NOW


def test_ship_events_rejects_naive_times(session):
    with pytest.raises(ValueError):
        ship_events(session, [dict(key="x", at=datetime(2026, 1, 1), kind="read")])


def test_gate_health_upserts(session):
    report_gate_health(session, "smelting-east", "c1", "ready", 0.4, {"frames_bad": 0})
    report_gate_health(session, "smelting-east", "c1", "fault", None, {"error": "io unreachable"})
    row = session.scalars(select(GateHealth)).one()
    assert (row.state, row.snapshot_age_s, row.detail) == ("fault", None, {"error": "io unreachable"})
    assert row.updated_at.tzinfo is not None
