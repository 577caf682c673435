"""API: contact forms (R5), education (R6-R8) and breaches (R17). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.education import ALL_TOPICS, SIGNATURE
from tests.integration.api.conftest import AT, Api, resident_id
from tests.integration.api.test_api_site import ESCORT_CARD, _passage


def _visitor(api: Api) -> int:
    resp = api.call(
        "POST",
        "/visitors",
        json={
            "name": "Zhang San",
            "id_type": "resident_id",
            "id_number": resident_id(date(1980, 1, 2)),
            "phone": "13700000000",
        },
    )
    assert resp.status_code == 201
    return int(resp.json["id"])


def _form_body(api: Api, visitor_id: int, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "visitor_id": visitor_id,
        "zones": ["smelting"],
        "escort_id": api.staff.escort.id,
        "purpose": "inspection",
        "valid_from": "2026-11-19T08:00:00+08:00",
        "valid_until": "2026-11-19T18:00:00+08:00",
    }
    body.update(over)
    return body


def test_form_created_pending_then_approved_by_the_departments_officer(api: Api) -> None:
    visitor_id = _visitor(api)
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id))
    assert resp.status_code == 201, resp.json
    assert resp.json["state"] == "pending" and resp.json["zones"] == ["smelting"]
    assert (resp.json["approvals"], resp.json["pending_departments"]) == ([], ["steelmaking"])
    assert resp.json["escort_ids"] == [api.staff.escort.id] and resp.json["permissions"] == []
    form_id = resp.json["id"]
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", role="safety_officer")  # steelmaking officer
    assert resp.status_code == 200 and resp.json["state"] == "approved"
    assert resp.json["approved_by"] == api.staff.officer_steel.id
    assert [(a["department"], a["approved_by"]) for a in resp.json["approvals"]] == [
        ("steelmaking", api.staff.officer_steel.id)
    ]
    assert resp.json["pending_departments"] == []
    assert api.call("POST", f"/contact-forms/{form_id}/approve", role="safety_officer").status_code == 409


def test_r5_officer_of_another_department_may_not_approve(api: Api) -> None:
    visitor_id = _visitor(api)
    form_id = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id)).json["id"]
    officer_assembly = api.staff.tokens["officer_assembly"]
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", token=officer_assembly)
    assert resp.status_code == 403
    assert resp.json["error"] == "not_allowed" and "R5" in resp.json["message"]
    # an escort of the department who is not its head may not either
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", role="escort")
    assert resp.status_code == 403 and "R5" in resp.json["message"]
    # the department head approves, whatever their role (R5)
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", token=api.staff.tokens["head_steel"])
    assert resp.status_code == 200 and resp.json["state"] == "approved"
    assert resp.json["approved_by"] == api.staff.head_steel.id


def test_form_validation(api: Api) -> None:
    visitor_id = _visitor(api)
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, zones=[], valid_until="tomorrow"))
    assert resp.status_code == 422
    assert {f["field"] for f in resp.json["fields"]} == {"zones", "valid_until"}
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, zones=["nowhere"]))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "zones"
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, escort_id=api.staff.guard.id))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "escort_id"  # R10
    resp = api.call(
        "POST", "/contact-forms", json=_form_body(api, visitor_id, escort_id=None, escort_ids=[api.staff.guard.id])
    )
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "escort_ids"
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, escort_id=None))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "escort_ids"  # none named
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, permissions=["photography", "drone"]))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "permissions"
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, valid_until="2026-11-19T07:00:00+08:00"))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "valid_until"
    assert api.call("POST", "/contact-forms", json=_form_body(api, 999999)).status_code == 404
    assert api.call("POST", "/contact-forms/999999/approve", role="safety_officer").status_code == 404


def _education_body(visitor_id: int, **over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "visitor_id": visitor_id,
        "department": "steelmaking",
        "method": "written",
        "topics": ALL_TOPICS,
        "delivered_at": "2026-11-30T10:00:00+08:00",
        "signature": SIGNATURE,
        "zones": ["smelting"],
    }
    body.update(over)
    return body


@pytest.fixture
def dec_1(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The server's clock at 1 December 2026, 12:00 in Shanghai (the recording delay, R6)."""
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    monkeypatch.setattr("zones.services.education.utcnow", lambda: now)
    return now


def test_education_card_valid_three_calendar_months(api: Api, dec_1: datetime) -> None:
    visitor_id = _visitor(api)
    resp = api.call("POST", "/education", role="safety_officer", json=_education_body(visitor_id))
    assert resp.status_code == 201, resp.json
    assert resp.json["delivered_on"] == "2026-11-30"
    assert resp.json["valid_until"] == "2027-02-28"  # R8, design.md: clamped to the month's end
    assert (resp.json["notification_signed"], resp.json["zones"]) == (True, ["smelting"])  # derived (R7), R9
    # a client that still sends notification_signed is accepted; the value is derived anyway
    resp = api.call(
        "POST", "/education", role="safety_officer", json=_education_body(visitor_id, notification_signed=False)
    )
    assert resp.status_code == 201 and resp.json["notification_signed"] is True


def test_education_topics_are_a_fixed_list(api: Api) -> None:
    resp = api.call("GET", "/education/topics", role="safety_officer")
    assert resp.status_code == 200
    assert [t["code"] for t in resp.json] == ALL_TOPICS
    assert resp.json[0]["label"] == "The zone's major hazards and the rules to obey"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"delivered_at": "2026-12-01T12:30:00+08:00"}, "delivered_at"),  # in the future
        ({"delivered_at": "2026-11-23T10:00:00+08:00"}, "delivered_at"),  # 8 days before: too old
        ({"topics": ALL_TOPICS[:-1]}, "topics"),  # a topic missing
        ({"topics": [*ALL_TOPICS, "weather"]}, "topics"),  # unknown topic
        ({"signature": None}, "signature"),  # missing signature (R7)
        ({"department": "assembly", "zones": ["assembly"]}, "educator"),  # educator outside the department
        ({"zones": ["assembly"]}, "zones"),  # another department's zone (R9)
    ],
)
def test_education_that_could_be_forged_is_422_naming_the_field(
    api: Api, dec_1: datetime, over: dict[str, object], field: str
) -> None:
    visitor_id = _visitor(api)
    body = {k: v for k, v in _education_body(visitor_id, **over).items() if v is not None}
    resp = api.call("POST", "/education", role="safety_officer", json=body)
    assert resp.status_code == 422, resp.json
    assert [f["field"] for f in resp.json["fields"]] == [field]
    assert api.call("GET", f"/visitors/{visitor_id}", role="safety_officer").json["education"] == []


def test_r8_dry_run_the_day_before_the_education_is_denied(api: Api) -> None:
    seeded = api.seed_visitor()  # educated the day before AT
    check = {"card": seeded.card, "escort_card": ESCORT_CARD}
    day_before = api.call(
        "GET", "/zones/smelting/check", role="guard", query_string={**check, "at": (AT - timedelta(days=2)).isoformat()}
    )
    assert day_before.status_code == 200 and day_before.json["allowed"] is False
    assert "R8" in {r["rule"] for r in day_before.json["reasons"]}
    at = api.call("GET", "/zones/smelting/check", role="guard", query_string={**check, "at": AT.isoformat()})
    assert "R8" not in {r["rule"] for r in at.json["reasons"]}, at.json


def test_education_errors(api: Api) -> None:
    visitor_id = _visitor(api)
    resp = api.call(
        "POST",
        "/education",
        role="safety_officer",
        json={
            "visitor_id": visitor_id,
            "department": "steelmaking",
            "method": "telepathy",
            "topics": "hazards",
            "delivered_at": "2026-11-30T10:00:00",
            "signature": SIGNATURE,
            "zones": ["smelting"],
        },
    )
    assert resp.status_code == 422
    assert {f["field"] for f in resp.json["fields"]} == {"method", "topics", "delivered_at"}
    resp = api.call(
        "POST",
        "/education",
        role="safety_officer",
        json={
            "visitor_id": 999999,
            "department": "steelmaking",
            "method": "video",
            "topics": ALL_TOPICS,
            "delivered_at": "2026-11-30T10:00:00+08:00",
            "signature": SIGNATURE,
            "zones": ["smelting"],
        },
    )
    assert resp.status_code == 404


def test_breach_ban_and_errors(api: Api) -> None:
    seeded = api.seed_visitor()
    api.ship(_passage("in", seeded.visitor_id, escort_id=api.staff.head_steel.id))  # entered in Hank's charge
    resp = api.call(
        "POST",
        "/breaches",
        role="safety_officer",
        json={
            "person_id": seeded.visitor_id,
            "rule": "R13",
            "prohibition": 1,
            "severity": "ban",
            "days": 30,
            "note": "smoking",
        },
    )
    assert resp.status_code == 201, resp.json
    # R17: the escort in charge at that moment is filled in
    assert resp.json["escort"] == {"id": api.staff.head_steel.id, "name": "Hank Head", "kind": "employee"}
    assert (resp.json["prohibition"], resp.json["escort_id"]) == (1, api.staff.head_steel.id)
    assert resp.json["seen_by"] == api.staff.officer_steel.id and resp.json["visit_id"] == seeded.visit_id
    record = api.call("GET", f"/visitors/{seeded.visitor_id}", role="safety_officer").json
    assert record["breaches"][0]["rule"] == "R13"
    assert record["visits"][0]["state"] == "closed"  # R17: a ban ends the visit

    resp = api.call(
        "POST",
        "/breaches",
        role="safety_officer",
        json={"person_id": seeded.visitor_id, "rule": "R99", "severity": "ban"},
    )
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "rule"
    resp = api.call(
        "POST",
        "/breaches",
        role="safety_officer",
        json={"person_id": seeded.visitor_id, "rule": "R13", "prohibition": 1, "severity": "ban"},
    )
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "days"
    for prohibition in (None, 8):
        resp = api.call(
            "POST",
            "/breaches",
            role="safety_officer",
            json={"person_id": seeded.visitor_id, "rule": "R13", "prohibition": prohibition, "severity": "warning"},
        )
        assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "prohibition"
    resp = api.call(
        "POST", "/breaches", role="safety_officer", json={"person_id": 999999, "rule": "R13", "severity": "warning"}
    )
    assert resp.status_code == 404


def test_r5_a_form_across_two_departments_waits_for_each(api: Api) -> None:
    visitor_id = _visitor(api)
    body = _form_body(api, visitor_id, zones=["assembly", "smelting"], escort_id=None, escort_ids=[api.staff.escort.id])
    form = api.call("POST", "/contact-forms", json={**body, "permissions": ["photography"]}).json
    assert (form["pending_departments"], form["permissions"]) == (["assembly", "steelmaking"], ["photography"])
    resp = api.call("POST", f"/contact-forms/{form['id']}/approve", role="safety_officer")  # steelmaking
    assert resp.status_code == 200, resp.json
    assert (resp.json["state"], resp.json["pending_departments"]) == ("pending", ["assembly"])
    assert [a["department"] for a in resp.json["approvals"]] == ["steelmaking"]
    # a third party (neither department's head or officer) may not approve; nor the admin
    for role in ("escort", "reception", "admin"):
        resp = api.call("POST", f"/contact-forms/{form['id']}/approve", role=role)
        assert resp.status_code == 403, role
    # steelmaking again: nothing left for it to approve
    assert api.call("POST", f"/contact-forms/{form['id']}/approve", role="safety_officer").status_code == 409
    resp = api.call("POST", f"/contact-forms/{form['id']}/approve", token=api.staff.tokens["officer_assembly"])
    assert (resp.json["state"], resp.json["pending_departments"]) == ("approved", [])
    assert sorted(a["department"] for a in resp.json["approvals"]) == ["assembly", "steelmaking"]


def test_r5_revocation_by_the_same_people_or_an_admin(api: Api) -> None:
    visitor_id = _visitor(api)
    form_id = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id)).json["id"]
    resp = api.call(
        "POST", f"/contact-forms/{form_id}/revoke", token=api.staff.tokens["officer_assembly"], json={"reason": "no"}
    )
    assert resp.status_code == 403 and "R5" in resp.json["message"]  # another department's officer
    assert api.call("POST", f"/contact-forms/{form_id}/revoke", role="escort", json={}).status_code == 403
    resp = api.call("POST", f"/contact-forms/{form_id}/revoke", role="safety_officer", json={"reason": "cancelled"})
    assert resp.status_code == 200 and resp.json["state"] == "revoked"
    assert api.call("POST", f"/contact-forms/{form_id}/revoke", role="admin", json={}).status_code == 409
    other = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id)).json["id"]
    assert api.call("POST", f"/contact-forms/{other}/revoke", role="admin", json={}).json["state"] == "revoked"


def test_r5_the_admin_names_department_heads_who_then_approve(api: Api) -> None:
    body = {"employee_id": api.staff.escort.id}
    assert api.call("POST", "/departments/steelmaking/head", role="safety_officer", json=body).status_code == 403
    assert api.call("POST", "/departments/nowhere/head", role="admin", json=body).status_code == 404
    resp = api.call("POST", "/departments/steelmaking/head", role="admin", json={"employee_id": 999999})
    assert resp.status_code == 404
    resp = api.call("POST", "/departments/steelmaking/head", role="admin", json=body)
    assert resp.status_code == 200
    assert resp.json == {
        "department": "steelmaking",
        "head": {"id": api.staff.escort.id, "name": "Eve Escort", "kind": "employee"},
    }
    visitor_id = _visitor(api)
    form_id = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id)).json["id"]
    assert api.call("POST", f"/contact-forms/{form_id}/approve", role="escort").json["state"] == "approved"
    # Hank is no longer head
    other = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id)).json["id"]
    assert api.call("POST", f"/contact-forms/{other}/approve", token=api.staff.tokens["head_steel"]).status_code == 403
