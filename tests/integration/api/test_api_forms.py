"""API: contact forms (R5), education (R6-R8) and breaches (R17). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from tests.integration.api.conftest import Api, resident_id


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
    form_id = resp.json["id"]
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", role="safety_officer")  # steelmaking officer
    assert resp.status_code == 200 and resp.json["state"] == "approved"
    assert resp.json["approved_by"] == api.staff.officer_steel.id
    assert api.call("POST", f"/contact-forms/{form_id}/approve", role="safety_officer").status_code == 409


def test_r5_officer_of_another_department_may_not_approve(api: Api) -> None:
    visitor_id = _visitor(api)
    form_id = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id)).json["id"]
    officer_assembly = api.staff.tokens["officer_assembly"]
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", token=officer_assembly)
    assert resp.status_code == 403
    assert resp.json["error"] == "not_allowed" and "R5" in resp.json["message"]
    # the department head (an escort by role) is not in the role table for approvals
    resp = api.call("POST", f"/contact-forms/{form_id}/approve", token=api.staff.tokens["head_steel"])
    assert resp.status_code == 403 and resp.json["error"] == "forbidden"


def test_form_validation(api: Api) -> None:
    visitor_id = _visitor(api)
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, zones=[], valid_until="tomorrow"))
    assert resp.status_code == 422
    assert {f["field"] for f in resp.json["fields"]} == {"zones", "valid_until"}
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, zones=["nowhere"]))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "zones"
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, escort_id=api.staff.guard.id))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "escort_id"  # R10
    resp = api.call("POST", "/contact-forms", json=_form_body(api, visitor_id, valid_until="2026-11-19T07:00:00+08:00"))
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "valid_until"
    assert api.call("POST", "/contact-forms", json=_form_body(api, 999999)).status_code == 404
    assert api.call("POST", "/contact-forms/999999/approve", role="safety_officer").status_code == 404


def test_education_card_valid_three_calendar_months(api: Api) -> None:
    visitor_id = _visitor(api)
    resp = api.call(
        "POST",
        "/education",
        role="safety_officer",
        json={
            "visitor_id": visitor_id,
            "department": "steelmaking",
            "method": "written",
            "topics": ["hazards", "evacuation"],
            "delivered_at": "2026-11-30T10:00:00+08:00",
            "notification_signed": True,
        },
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["delivered_on"] == "2026-11-30"
    assert resp.json["valid_until"] == "2027-02-28"  # R8, design.md: clamped to the month's end


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
            "notification_signed": True,
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
            "topics": [],
            "delivered_at": "2026-11-30T10:00:00+08:00",
            "notification_signed": False,
        },
    )
    assert resp.status_code == 404


def test_breach_ban_and_errors(api: Api) -> None:
    seeded = api.seed_visitor()
    resp = api.call(
        "POST",
        "/breaches",
        role="safety_officer",
        json={"person_id": seeded.visitor_id, "rule": "R13", "severity": "ban", "days": 30, "note": "smoking"},
    )
    assert resp.status_code == 201, resp.json
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
        json={"person_id": seeded.visitor_id, "rule": "R13", "severity": "ban"},
    )
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "days"
    resp = api.call(
        "POST", "/breaches", role="safety_officer", json={"person_id": 999999, "rule": "R13", "severity": "warning"}
    )
    assert resp.status_code == 404
