"""Alerts reach the people concerned (R10 escort and the zone's safety officers, R21 the
routed department) and open once per key."""

from __future__ import annotations

from zones.schema import Alert
from zones.services.alerts import alerts_for, close_alert, open_alert, open_alerts


def test_opening_twice_is_one_alert(session, demo_staff) -> None:
    first = open_alert(
        session,
        key="unescorted:j1:7",
        kind="unescorted",
        zone="smelting",
        department="steelmaking",
        audience="safety",
        escort_id=demo_staff.escort.id,
    )
    again = open_alert(
        session,
        key="unescorted:j1:7",
        kind="unescorted",
        zone="smelting",
        department="steelmaking",
        audience="safety",
        escort_id=demo_staff.escort.id,
    )
    session.commit()
    assert first.id == again.id
    assert session.query(Alert).count() == 1


def test_unescorted_alert_reaches_the_escort_and_the_zones_safety_officers_only(session, demo_staff) -> None:
    open_alert(
        session,
        key="u1",
        kind="unescorted",
        zone="smelting",
        department="steelmaking",
        audience="safety",
        escort_id=demo_staff.escort.id,
    )
    session.commit()
    seen = {
        name: [a.key for a in alerts_for(session, getattr(demo_staff, name))]
        for name in ("escort", "officer_steel", "officer_assembly", "head_steel", "admin", "guard")
    }
    assert seen == {
        "escort": ["u1"],
        "officer_steel": ["u1"],
        "officer_assembly": [],
        "head_steel": [],
        "admin": ["u1"],
        "guard": [],
    }


def test_routed_alert_reaches_every_member_of_the_department(session, demo_staff) -> None:
    open_alert(session, key="incident:1", kind="incident", department="steelmaking", subject_id=1)
    session.commit()
    assert [a.key for a in alerts_for(session, demo_staff.head_steel)] == ["incident:1"]
    assert alerts_for(session, demo_staff.officer_assembly) == []


def test_closed_alerts_filter_by_state(session, demo_staff) -> None:
    alert = open_alert(
        session, key="u2", kind="unescorted", department="steelmaking", audience="safety", person_id=None
    )
    assert close_alert(session, alert, by=demo_staff.officer_steel.id, note="taken over")
    assert not close_alert(session, alert, by=demo_staff.officer_steel.id, note="again")
    session.commit()
    assert alerts_for(session, demo_staff.officer_steel, state="open") == []
    assert [a.close_note for a in alerts_for(session, demo_staff.officer_steel, state="closed")] == ["taken over"]
    assert open_alerts(session, kind="unescorted") == []
