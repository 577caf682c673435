"""API: the zone check (same engine as the gates), occupants, anti-passback reset (R15),
emergency and muster (R16), events with a cursor (R18), monthly stats (R19), gates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.integration.api.conftest import AT, Api

ESCORT_CARD = "E0000004"  # Eve Escort (demo_staff), may escort in smelting


def _passage(
    key: str, person_id: int, zone: str = "smelting", direction: str = "in", escort_id: int | None = None, at: Any = AT
) -> dict[str, Any]:
    return {
        "key": key,
        "at": at,
        "gate": f"{zone}-east",
        "zone": zone,
        "kind": "passage",
        "person_id": person_id,
        "passed": True,
        "direction": direction,
        "escort_id": escort_id,
        "controller": "test",
    }


def test_check_allows_a_ready_visitor_with_escort(api: Api) -> None:
    seeded = api.seed_visitor()
    resp = api.call(
        "GET",
        "/zones/smelting/check",
        role="escort",
        query_string={"card": seeded.card.lower(), "escort_card": ESCORT_CARD, "at": AT.isoformat()},
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["allowed"] is True and resp.json["reasons"] == []
    assert resp.json["person"] == {"id": seeded.visitor_id, "name": "Vera Visitor", "kind": "visitor"}
    assert resp.json["escort"]["id"] == api.staff.escort.id


def test_check_lists_every_failing_rule(api: Api) -> None:
    seeded = api.seed_visitor(helmet=False)
    resp = api.call(
        "GET", "/zones/smelting/check", role="guard", query_string={"card": seeded.card, "at": AT.isoformat()}
    )
    assert resp.status_code == 200
    assert resp.json["allowed"] is False
    rules = {r["rule"] for r in resp.json["reasons"]}
    assert rules == {"R10", "R12"}
    r12 = next(r for r in resp.json["reasons"] if r["rule"] == "R12")
    assert r12["code"] == "no-helmet" and "helmet" in r12["message"] and r12["params"]["zone"]


def test_check_unknown_and_lost_cards(api: Api) -> None:
    resp = api.call("GET", "/zones/smelting/check", role="guard", query_string={"card": "FFFFFFFFFF"})
    assert resp.json["allowed"] is False and resp.json["person"] is None
    assert [r["rule"] for r in resp.json["reasons"]] == ["R3"]
    seeded = api.seed_visitor()
    assert api.call("POST", f"/badges/{seeded.card}/lost").status_code == 200
    resp = api.call(
        "GET",
        "/zones/smelting/check",
        role="guard",
        query_string={"card": seeded.card, "escort_card": ESCORT_CARD, "at": AT.isoformat()},
    )
    assert resp.json["allowed"] is False
    assert any(r["code"] == "badge-lost" for r in resp.json["reasons"])  # R3: blocked at once


def test_check_errors(api: Api) -> None:
    assert api.call("GET", "/zones/nowhere/check", role="guard", query_string={"card": "AB"}).status_code == 404
    resp = api.call("GET", "/zones/smelting/check", role="guard", query_string={"at": "yesterday"})
    assert resp.status_code == 422
    assert {f["field"] for f in resp.json["fields"]} == {"card", "at"}


def test_occupants_passback_and_reset(api: Api) -> None:
    seeded = api.seed_visitor()
    api.ship(_passage("k1", seeded.visitor_id, escort_id=api.staff.escort.id))
    resp = api.call("GET", "/zones/smelting/occupants", role="guard")
    assert resp.status_code == 200
    assert [(o["person"]["id"], o["kind"], o["escort"]["id"]) for o in resp.json] == [
        (seeded.visitor_id, "visitor", api.staff.escort.id)
    ]
    # the end of the visitor's form for the zone (R5), here one that ran out while inside
    assert datetime.fromisoformat(resp.json[0]["form_valid_until"]) == AT + timedelta(hours=8)
    assert api.call("GET", "/zones/assembly/occupants", role="guard").json == []
    assert api.call("GET", "/zones/nowhere/occupants", role="guard").status_code == 404

    # R15: recorded inside -> the check denies re-entry until a safety officer resets it
    query = {"card": seeded.card, "escort_card": ESCORT_CARD, "at": (AT + timedelta(minutes=5)).isoformat()}
    resp = api.call("GET", "/zones/smelting/check", role="guard", query_string=query)
    assert [r["code"] for r in resp.json["reasons"]] == ["passback"]
    resp = api.call(
        "POST", "/zones/smelting/passback-reset", role="safety_officer", json={"person_id": seeded.visitor_id}
    )
    assert resp.status_code == 200 and resp.json["cleared"] is True
    assert api.call("GET", "/zones/smelting/check", role="guard", query_string=query).json["allowed"] is True
    assert (
        api.call(
            "POST", "/zones/smelting/passback-reset", role="safety_officer", json={"person_id": 999999}
        ).status_code
        == 404
    )


def test_emergency_and_muster(api: Api) -> None:
    seeded = api.seed_visitor()
    api.ship(
        _passage("k1", seeded.visitor_id, escort_id=api.staff.escort.id),
        _passage("k2", api.staff.escort.id, at=AT + timedelta(seconds=1)),
    )
    resp = api.call("POST", "/emergency", role="safety_officer", json={"active": True})
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "reason"
    resp = api.call("POST", "/emergency", role="safety_officer", json={"active": True, "reason": "fire drill"})
    assert resp.status_code == 200
    assert resp.json["active"] is True and resp.json["since"] is not None and resp.json["reason"] == "fire drill"

    muster = api.call("GET", "/muster", role="guard").json
    assert muster["active"] is True
    smelting = next(z for z in muster["zones"] if z["zone"] == "smelting")
    visitor = next(p for p in smelting["people"] if p["person"]["id"] == seeded.visitor_id)
    assert visitor["escort"]["id"] == api.staff.escort.id
    assert visitor["phone_masked"] == "138****8000" and visitor["phone"] is None  # R20 for the guard
    assert muster["reason"] == "fire drill"
    # R16: the escort of record sees the phone of the visitor in their charge, during the emergency
    mine = api.call("GET", "/muster", role="escort").json
    assert {p["person"]["id"]: p["phone"] for p in mine["missing"]}[seeded.visitor_id] == seeded.phone
    assert {p["person"]["id"] for p in muster["missing"]} == {seeded.visitor_id, api.staff.escort.id}
    officer_view = api.call("GET", "/muster", role="safety_officer").json
    assert seeded.phone in {p["phone"] for p in officer_view["missing"]}

    resp = api.call("POST", f"/muster/{seeded.visitor_id}/accounted", role="escort")
    assert resp.status_code == 200 and resp.json == {"person_id": seeded.visitor_id, "accounted": True}
    zones = api.call("GET", "/muster", role="guard").json["zones"]
    marked = next(p for z in zones for p in z["people"] if p["accounted"])
    assert marked["marked_by"]["id"] == api.staff.escort.id and marked["marked_at"] is not None
    missing = api.call("GET", "/muster", role="guard").json["missing"]
    assert [p["person"]["id"] for p in missing] == [api.staff.escort.id]
    assert api.call("POST", "/muster/999999/accounted", role="guard").status_code == 404

    # R16: entries are locked while the emergency lasts
    resp = api.call("GET", "/zones/assembly/check", role="guard", query_string={"card": ESCORT_CARD})
    assert "R16" in {r["rule"] for r in resp.json["reasons"]}
    # the escort is still missing: ending needs a reason (the panel asks "end anyway?")
    resp = api.call("POST", "/emergency", role="safety_officer", json={"active": False})
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "reason"
    resp = api.call("POST", "/emergency", role="safety_officer", json={"active": False, "reason": "drill over"})
    assert resp.status_code == 200 and resp.json["active"] is False and resp.json["since"] is None


def _decision(
    i: int, allowed: bool, gate: str = "smelting-east", zone: str = "smelting", person_id: int | None = None
) -> dict[str, Any]:
    reasons = [] if allowed else [{"rule": "R5", "message": "no form", "code": "no-form"}]
    return {
        "key": f"d{i}",
        "at": AT + timedelta(minutes=i),
        "gate": gate,
        "zone": zone,
        "kind": "decision",
        "card": f"C{i}",
        "person_id": person_id,
        "allowed": allowed,
        "reasons": reasons,
        "controller": "test",
    }


def test_events_filters_and_cursor(api: Api) -> None:
    seeded = api.seed_visitor()
    api.ship(
        *[_decision(i, allowed=i % 2 == 0, person_id=seeded.visitor_id) for i in range(5)],
        _decision(9, allowed=True, gate="assembly-in", zone="assembly"),
    )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        q: dict[str, Any] = {"zone": "smelting", "limit": 2}
        if cursor:
            q["cursor"] = cursor
        resp = api.call("GET", "/events", role="guard", query_string=q)
        assert resp.status_code == 200, resp.json
        seen += [e["card"] for e in resp.json["events"]]
        pages += 1
        cursor = resp.json["next_cursor"]
        if cursor is None:
            break
    assert seen == ["C4", "C3", "C2", "C1", "C0"] and pages == 3  # newest first, no repeats
    first = api.call("GET", "/events", role="guard", query_string={"limit": 1}).json["events"][0]
    assert first["card"] == "C9" and first["zone"] == "assembly"

    denied = api.call("GET", "/events", role="guard", query_string={"allowed": "false"}).json["events"]
    assert [e["card"] for e in denied] == ["C3", "C1"]
    assert denied[0]["reasons"][0]["rule"] == "R5"
    assert denied[0]["person"] == {"id": seeded.visitor_id, "name": "Vera Visitor", "kind": "visitor"}
    window = {"since": (AT + timedelta(minutes=1)).isoformat(), "until": (AT + timedelta(minutes=3)).isoformat()}
    assert [e["card"] for e in api.call("GET", "/events", role="guard", query_string=window).json["events"]] == [
        "C2",
        "C1",
    ]
    assert [
        e["card"] for e in api.call("GET", "/events", role="guard", query_string={"gate": "assembly-in"}).json["events"]
    ] == ["C9"]


def test_events_errors(api: Api) -> None:
    resp = api.call("GET", "/events", role="guard", query_string={"cursor": "garbage!", "limit": 0})
    assert resp.status_code == 422
    assert [f["field"] for f in resp.json["fields"]] == ["limit"]
    resp = api.call("GET", "/events", role="guard", query_string={"cursor": "garbage"})
    assert resp.status_code == 422 and resp.json["fields"] == [
        {"field": "cursor", "message": "not a cursor this API handed out"}
    ]
    resp = api.call("GET", "/events", role="guard", query_string={"since": "2026-11-19"})
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "since"


def test_monthly_stats(api: Api) -> None:
    seeded = api.seed_visitor()
    api.ship(_decision(1, allowed=False, person_id=seeded.visitor_id))
    resp = api.call("GET", "/stats/monthly", role="safety_officer", query_string={"month": "2026-11"})
    assert resp.status_code == 200, resp.json
    assert resp.json["denials"] == {"total": 1, "by_rule": {"R5": 1}}
    assert resp.json["visits"]["arrived"] == 1
    assert resp.json["educations"]["by_method"] == {"video": 1}
    # R19: breaches by prohibition and by escort, unescorted alerts, next to the existing keys
    assert resp.json["breaches"]["by_prohibition"] == {} and resp.json["breaches"]["by_escort"] == []
    assert resp.json["alerts"] == {"unescorted": 0}
    resp = api.call("GET", "/stats/monthly", role="safety_officer", query_string={"month": "2026-13"})
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "month"


def test_gates_with_health(api: Api) -> None:
    from zones.central import report_gate_health

    report_gate_health(api.session, "smelting-east", "ctl-1", "ok", 0.4, {"frames_discarded": 0})
    gates = {g["id"]: g for g in api.call("GET", "/gates", role="guard").json}
    assert set(gates) == {"assembly-in", "assembly-out", "smelting-east", "smelting-exit"}
    assert gates["smelting-east"]["state"] == "ok" and gates["smelting-east"]["snapshot_age_s"] == 0.4
    assert gates["assembly-in"]["state"] is None


def test_r16_the_muster_lists_visitors_on_site_outside_the_zones_and_escorts_mark_their_own(api: Api) -> None:
    inside = api.seed_visitor(name="Inside Ina")
    yard = api.seed_visitor(name="Yard Yan")  # checked in, never through a gate
    other = api.seed_visitor(name="Other Otto", escort_id=api.staff.officer_steel.id)
    api.ship(
        _passage("k1", inside.visitor_id, escort_id=api.staff.escort.id),
        _passage("k2", other.visitor_id, escort_id=api.staff.officer_steel.id),
    )
    muster = api.call("GET", "/muster", role="guard").json
    outside = muster["zones"][-1]
    assert (outside["zone"], outside["name"]) == (None, "on site, not in a gated zone")
    assert [p["person"]["name"] for p in outside["people"]] == ["Yard Yan"]
    person = outside["people"][0]
    assert person["zone"] is None and person["host"]["id"] == api.staff.reception.id
    assert person["phone_masked"] == "138****8000" and person["phone"] is None  # R20 for the guard
    smelting = next(z for z in muster["zones"] if z["zone"] == "smelting")
    assert all("escort" in p for p in smelting["people"])
    assert {p["person"]["id"] for p in muster["missing"]} == {inside.visitor_id, yard.visitor_id, other.visitor_id}

    # escorts mark their own visitors; someone else's is refused; a warden marks anyone
    resp = api.call("POST", f"/muster/{other.visitor_id}/accounted", role="escort")
    assert resp.status_code == 403 and "R16" in resp.json["message"]
    resp = api.call("POST", f"/muster/{inside.visitor_id}/accounted", role="escort")
    assert resp.status_code == 200 and resp.json == {"person_id": inside.visitor_id, "accounted": True}
    resp = api.call("POST", f"/muster/{yard.visitor_id}/accounted", role="guard")
    assert resp.json == {"person_id": yard.visitor_id, "accounted": True}
    missing = api.call("GET", "/muster", role="guard").json["missing"]
    assert [p["person"]["id"] for p in missing] == [other.visitor_id]
