"""API: unescorted-visitor alerts (R10) as the gates' shipped events open them, who is
concerned by them (GET /alerts, 404 otherwise), and the take-over with its refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.api.conftest import AT, Api
from zones.errors import ValidationFailed
from zones.facts import Policy
from zones.schema import Alert, Ban, Presence
from zones.services._common import record_change
from zones.services.custody import take_over


def _passage(key: str, person_id: int, direction: str = "in", escort_id: int | None = None, at: Any = AT) -> dict:
    return {
        "key": key,
        "at": at,
        "gate": "smelting-east",
        "zone": "smelting",
        "kind": "passage",
        "person_id": person_id,
        "passed": True,
        "direction": direction,
        "escort_id": escort_id,
        "controller": "test",
    }


def _escort_left(key: str, escort_id: int, visitors: list[int], at: Any = AT) -> dict:
    """The custody event a gate journals after the escort's exit passage (controller.custody)."""
    return {
        "key": key,
        "at": at,
        "gate": "smelting-exit",
        "zone": "smelting",
        "kind": "alert",
        "person_id": escort_id,
        "escort_id": escort_id,
        "direction": "out",
        "controller": "test",
        "detail": {"alert": "unescorted", "visitors": visitors, "department": "steelmaking"},
    }


def _left_unescorted(api: Api) -> tuple[int, int]:
    """A visitor inside smelting whose escort Eve walked out; returns (visitor id, alert id).
    The steelmaking staff who take visitors over are dispatch-room staff, so that a take-over
    at night (R14) does not make these tests depend on the clock."""
    for emp in (api.staff.head_steel, api.staff.officer_steel):
        emp.dispatch_room = True
    eve = api.staff.escort.id
    visitor = api.seed_visitor().visitor_id
    api.ship(
        _passage("v-in", visitor, escort_id=eve),
        _passage("e-in", eve, at=AT + timedelta(seconds=1)),
        _passage("e-out", eve, direction="out", at=AT + timedelta(minutes=5)),
        _escort_left("e-left", eve, [visitor], at=AT + timedelta(minutes=5)),
    )
    (alert,) = api.session.scalars(select(Alert).where(Alert.kind == "unescorted"))
    return visitor, alert.id


def _token(api: Api, who: str) -> str:
    return str(api.staff.tokens[who])


def test_R10_escort_leaving_opens_one_alert_per_visitor_once(api: Api) -> None:
    visitor, alert_id = _left_unescorted(api)
    api.ship(_escort_left("e-left", api.staff.escort.id, [visitor]))  # shipped again: still one
    alert = api.session.get(Alert, alert_id)
    assert alert is not None and alert.state == "open" and alert.person_id == visitor
    assert api.session.scalar(select(Alert.id).where(Alert.key != alert.key)) is None


def test_R18_the_custody_event_is_in_the_journal(api: Api) -> None:
    _left_unescorted(api)
    events = api.call("GET", "/events", role="safety_officer").json["events"]
    (alert,) = [e for e in events if e["kind"] == "alert"]
    assert alert["person"]["id"] == api.staff.escort.id and alert["zone"] == "smelting"


def test_R10_alert_is_listed_for_the_escort_the_zones_officer_and_its_escorts_only(api: Api) -> None:
    visitor, alert_id = _left_unescorted(api)
    for who in ("escort", "officer_steel", "head_steel"):  # head_steel: steelmaking escorts in smelting
        resp = api.call("GET", "/alerts", token=_token(api, who), query_string={"state": "open"})
        assert resp.status_code == 200, resp.json
        (row,) = resp.json
        assert row["id"] == alert_id and row["kind"] == "unescorted" and row["zone"] == "smelting"
        assert row["person"] == {"id": visitor, "name": "Vera Visitor", "kind": "visitor"}
        assert row["escort"]["id"] == api.staff.escort.id and row["closed_at"] is None
    for who in ("officer_assembly", "reception", "guard"):
        assert api.call("GET", "/alerts", token=_token(api, who)).json == [], who
    assert api.call("GET", "/alerts", role="escort", query_string={"state": "closed"}).json == []
    assert api.call("GET", "/alerts", role="escort", query_string={"kind": "incident"}).json == []


def test_R10_take_over_needs_permission_and_concern(api: Api) -> None:
    _visitor, alert_id = _left_unescorted(api)
    assert api.call("POST", f"/alerts/{alert_id}/take-over", role="guard", json={}).status_code == 403
    resp = api.call("POST", f"/alerts/{alert_id}/take-over", token=_token(api, "officer_assembly"), json={})
    assert resp.status_code == 404  # another department's officer is not concerned
    assert api.call("POST", "/alerts/999999/take-over", role="escort", json={}).status_code == 404


def test_R10_the_escort_who_left_cannot_take_over_but_hands_over_by_card(api: Api) -> None:
    visitor, alert_id = _left_unescorted(api)
    resp = api.call("POST", f"/alerts/{alert_id}/take-over", role="escort", json={})
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "escort_id"
    assert "escort who left" in resp.json["fields"][0]["message"]
    resp = api.call("POST", f"/alerts/{alert_id}/take-over", role="escort", json={"escort_card": "e0000003"})
    assert resp.status_code == 200, resp.json
    assert resp.json["closed_at"] is not None and resp.json["detail"]["taken_over_by"] == api.staff.head_steel.id
    api.session.expire_all()
    presence = api.session.get(Presence, visitor)
    assert presence is not None and presence.escort_id == api.staff.head_steel.id
    again = api.call("POST", f"/alerts/{alert_id}/take-over", token=_token(api, "head_steel"), json={})
    assert again.status_code == 409


def test_R10_an_escort_may_not_hand_visitors_to_someone_else(api: Api) -> None:
    _visitor, alert_id = _left_unescorted(api)
    resp = api.call(
        "POST",
        f"/alerts/{alert_id}/take-over",
        token=_token(api, "head_steel"),
        json={"escort_id": api.staff.officer_steel.id},
    )
    assert resp.status_code == 403


def test_R17_R10_a_banned_or_unauthorised_escort_cannot_take_over(api: Api) -> None:
    _visitor, alert_id = _left_unescorted(api)
    s = api.session
    s.add(Ban(person_id=api.staff.head_steel.id, until=date.today() + timedelta(days=3), reason="test"))
    record_change(s, api.staff.head_steel.id, "ban")
    s.commit()
    resp = api.call("POST", f"/alerts/{alert_id}/take-over", token=_token(api, "head_steel"), json={})
    assert resp.status_code == 422 and "banned" in resp.json["fields"][0]["message"]
    resp = api.call(
        "POST",
        f"/alerts/{alert_id}/take-over",
        role="safety_officer",
        json={"escort_id": api.staff.officer_assembly.id},  # assembly: may not escort in smelting
    )
    assert resp.status_code == 422 and "may not escort" in resp.json["fields"][0]["message"]
    resp = api.call("POST", f"/alerts/{alert_id}/take-over", role="safety_officer", json={})
    assert resp.status_code == 200  # the zone's own safety officer takes the visitor over
    assert resp.json["closed_at"] is not None


def test_R10_alert_closes_when_the_visitor_leaves_or_the_escort_returns(api: Api) -> None:
    visitor, alert_id = _left_unescorted(api)
    api.ship(_passage("v-out", visitor, direction="out", at=AT + timedelta(minutes=6)))
    alert = api.session.get(Alert, alert_id)
    assert alert is not None
    api.session.refresh(alert)
    assert alert.state == "closed" and alert.close_note == "the visitor left the zone"

    eve = api.staff.escort.id
    other = api.seed_visitor(name="Otto Other").visitor_id
    api.ship(
        _passage("o-in", other, escort_id=eve, at=AT + timedelta(minutes=10)),
        _passage("e-out2", eve, direction="out", at=AT + timedelta(minutes=11)),
        _escort_left("e-left2", eve, [other], at=AT + timedelta(minutes=11)),
        _passage("e-in2", eve, at=AT + timedelta(minutes=12)),  # Eve comes back
    )
    back = api.session.scalars(select(Alert).where(Alert.person_id == other)).one()
    assert back.state == "closed" and back.close_note == "the escort came back"


def test_R14_at_night_only_a_dispatch_room_escort_takes_visitors_over(api: Api) -> None:
    """The gate asks a night visit for a dispatch-room escort (R14); a take-over at night
    asks the same of the new escort."""
    _visitor, alert_id = _left_unescorted(api)
    head = api.staff.head_steel
    head.dispatch_room = False
    night = datetime(2026, 11, 19, 14, 30, tzinfo=UTC)  # 22:30 in Asia/Shanghai
    with pytest.raises(ValidationFailed) as refused:
        take_over(api.session, alert_id, by=head.id, policy=Policy(), now=night)
    ((field, problem),) = refused.value.fields
    assert field == "escort_id" and getattr(problem, "code", "") == "night-escort" and head.name in problem
    api.session.rollback()
    head.dispatch_room = True
    api.session.commit()
    alert = take_over(api.session, alert_id, by=head.id, policy=Policy(), now=night)
    assert alert.state == "closed" and alert.detail["taken_over_by"] == head.id
