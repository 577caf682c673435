"""API: visitors, visits, badges and helmets (R1-R4, R12), their error cases, R20 masking and
the escort's own-visitors limit. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from tests.integration.api.conftest import Api, resident_id
from zones.calendar import age_on


def _visitor_body(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Li Wei",
        "id_type": "resident_id",
        "id_number": resident_id(date(1985, 6, 1)),
        "organisation": "Acme",
        "phone": "13912345678",
    }
    body.update(over)
    return body


def test_register_visitor_derives_birth_date_and_masks_identity(api: Api) -> None:
    resp = api.call("POST", "/visitors", json=_visitor_body())
    assert resp.status_code == 201, resp.json
    v = resp.json
    # R2: derived from the resident id; R20: reception sees the age, not the birth date
    assert v["birth_date"] is None and v["age"] == age_on(date(1985, 6, 1), date.today())
    officer_view = api.call("GET", f"/visitors/{v['id']}", role="safety_officer").json
    assert officer_view["birth_date"] == "1985-06-01"
    number = resident_id(date(1985, 6, 1))
    assert v["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert v["id_number"] is None and v["phone"] is None  # R20: reception sees masked only
    assert v["phone_masked"] == "139****5678"


def test_register_visitor_validation_names_each_field(api: Api) -> None:
    bad = resident_id(date(1985, 6, 1))[:-1] + ("0" if resident_id(date(1985, 6, 1))[-1] != "0" else "1")
    resp = api.call("POST", "/visitors", json=_visitor_body(id_number=bad))
    assert resp.status_code == 422
    assert resp.json["error"] == "validation"
    assert [f["field"] for f in resp.json["fields"]] == ["id_number"]
    assert "check character" in resp.json["fields"][0]["message"]  # R2 GB 11643

    resp = api.call("POST", "/visitors", json={"name": "", "id_type": "licence", "surname": "x"})
    assert resp.status_code == 422
    fields = {f["field"] for f in resp.json["fields"]}
    assert {"name", "id_type", "id_number", "surname"} <= fields


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b'{"name": "x",}'])
def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    resp = api.call("POST", "/visitors", data=raw, content_type="application/json")
    assert resp.status_code == 400
    assert resp.json["error"] == "malformed_json"


def test_same_document_other_name_is_409(api: Api) -> None:
    assert api.call("POST", "/visitors", json=_visitor_body()).status_code == 201
    resp = api.call("POST", "/visitors", json=_visitor_body(name="Somebody Else"))
    assert resp.status_code == 409
    # R20: the conflict names no visitor, so a guessed number confirms nobody's identity
    assert resp.json["error"] == "conflict" and resp.json["items"] == []
    assert "safety office" in resp.json["message"]


def test_visit_lifecycle_with_badge_and_helmet(api: Api) -> None:
    visitor = api.call("POST", "/visitors", json=_visitor_body()).json
    number = resident_id(date(1985, 6, 1))
    resp = api.call(
        "POST",
        "/visits",
        json={
            "visitor_id": visitor["id"],
            "host_id": api.staff.reception.id,
            "purpose": "audit",
            "expected_at": "2026-11-20T09:00:00+08:00",
        },
    )
    assert resp.status_code == 201 and resp.json["state"] == "booked"
    visit_id = resp.json["id"]

    # R2: the number shown must match
    resp = api.call("POST", f"/visits/{visit_id}/check-in", json={"id_number": "110105198506019999"})
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "id_number"
    resp = api.call("POST", f"/visits/{visit_id}/check-in", json={"id_number": number})
    assert resp.status_code == 200 and resp.json["state"] == "on-site"

    resp = api.call("POST", f"/visits/{visit_id}/badge", json={"card": "0a00c0ffee"})
    assert resp.status_code == 201 and resp.json["card"] == "0A00C0FFEE" and resp.json["state"] == "active"
    # R3: one active badge per visitor and per card
    assert api.call("POST", f"/visits/{visit_id}/badge", json={"card": "0A00C0FFEF"}).status_code == 409
    resp = api.call("POST", "/helmets/issue", json={"visitor_id": visitor["id"], "helmet_no": "H-17"})
    assert resp.status_code == 200 and resp.json["returned_at"] is None
    assert (
        api.call("POST", "/helmets/issue", json={"visitor_id": visitor["id"], "helmet_no": "H-18"}).status_code == 409
    )

    # R4/R12: check-out refused while badge and helmet are out, naming them
    resp = api.call("POST", f"/visits/{visit_id}/check-out")
    assert resp.status_code == 409
    assert sorted(resp.json["items"]) == ["badge 0A00C0FFEE", "helmet H-17"]

    assert api.call("POST", "/badges/0A00C0FFEE/return").status_code == 200
    assert api.call("POST", "/badges/0A00C0FFEE/return").status_code == 404  # no longer active
    resp = api.call("POST", "/helmets/return", json={"visitor_id": visitor["id"], "helmet_no": "H-17"})
    assert resp.status_code == 200 and resp.json["returned_at"] is not None
    resp = api.call("POST", f"/visits/{visit_id}/check-out")
    assert resp.status_code == 200 and resp.json["state"] == "closed"
    assert api.call("POST", f"/visits/{visit_id}/check-out").status_code == 409


def test_visit_errors(api: Api) -> None:
    assert (
        api.call(
            "POST", "/visits", json={"visitor_id": 999999, "host_id": api.staff.reception.id, "purpose": "x"}
        ).status_code
        == 404
    )
    resp = api.call(
        "POST", "/visits", json={"visitor_id": 1, "host_id": 1, "purpose": "x", "expected_at": "2026-11-20T09:00:00"}
    )
    assert resp.status_code == 422 and resp.json["fields"][0]["field"] == "expected_at"  # no offset
    assert api.call("POST", "/visits/999999/check-in", json={"id_number": "X"}).status_code == 404
    assert api.call("POST", "/visits/999999/badge", json={"card": "AB"}).status_code == 404
    assert api.call("POST", "/helmets/return", json={"visitor_id": 1, "helmet_no": "nope"}).status_code == 404
    assert api.call("POST", "/visits/999999/check-out").status_code == 404
    assert api.call("POST", "/helmets/issue", json={"visitor_id": 999999, "helmet_no": "H-1"}).status_code == 404
    resp = api.call("POST", "/visits/abc/check-out")
    assert resp.status_code == 404 and resp.json["error"] == "not_found"  # JSON even for routing misses
    resp = api.call("GET", "/visits")
    assert resp.status_code == 405 and resp.json["error"] == "method_not_allowed"


def test_visit_conflicts(api: Api) -> None:
    seeded = api.seed_visitor()  # visit already on-site
    resp = api.call(
        "POST",
        "/visits",
        json={"visitor_id": seeded.visitor_id, "host_id": api.staff.reception.id, "purpose": "second"},
    )
    assert resp.status_code == 409 and resp.json["items"] == [f"visit {seeded.visit_id}"]  # one open visit
    resp = api.call("POST", f"/visits/{seeded.visit_id}/check-in", json={"id_number": seeded.id_number})
    assert resp.status_code == 409  # not booked any more
    resp = api.call("POST", f"/visits/{seeded.visit_id}/badge", json={"card": "E0000004"})
    assert resp.status_code == 409 and "employee" in resp.json["message"]  # Eve's own card


def test_employees_filter_validation(api: Api) -> None:
    resp = api.call("GET", "/employees", query_string={"role": "boss", "colour": "red"})
    assert resp.status_code == 422
    assert {f["field"] for f in resp.json["fields"]} == {"role", "colour"}


def test_badge_lost(api: Api) -> None:
    seeded = api.seed_visitor()
    resp = api.call("POST", f"/badges/{seeded.card}/lost")
    assert resp.status_code == 200 and resp.json["state"] == "lost"
    assert api.call("POST", f"/badges/{seeded.card}/lost").status_code == 404


def test_get_visitor_record(api: Api) -> None:
    seeded = api.seed_visitor()
    resp = api.call("GET", f"/visitors/{seeded.visitor_id}")
    assert resp.status_code == 200
    v = resp.json
    assert [x["id"] for x in v["visits"]] == [seeded.visit_id]
    assert v["forms"][0]["state"] == "approved" and v["forms"][0]["zones"] == ["smelting"]
    assert v["education"][0]["department"] == "steelmaking"
    assert v["badges"][0]["card"] == seeded.card
    assert v["helmets"][0]["helmet_no"] == seeded.helmet_no
    assert v["breaches"] == []
    assert api.call("GET", "/visitors/999999").status_code == 404


@pytest.mark.parametrize("role", ["reception", "escort", "admin"])
def test_identity_and_phone_stay_masked(api: Api, role: str) -> None:
    """R20: masked for every role but the safety officer (admin included, web.permissions)."""
    seeded = api.seed_visitor()
    resp = api.call("GET", f"/visitors/{seeded.visitor_id}", role=role)
    assert resp.status_code == 200
    body = resp.text
    assert seeded.id_number not in body and seeded.phone not in body
    assert resp.json["id_number"] is None and resp.json["phone"] is None
    assert resp.json["id_number_masked"].startswith(seeded.id_number[:3])
    assert resp.json["id_number_masked"].endswith(seeded.id_number[-4:])


def test_safety_officer_sees_identity(api: Api) -> None:
    seeded = api.seed_visitor()
    resp = api.call("GET", f"/visitors/{seeded.visitor_id}", role="safety_officer")
    assert resp.json["id_number"] == seeded.id_number
    assert resp.json["phone"] == seeded.phone


def test_escort_reads_only_own_visitors(api: Api) -> None:
    from zones.services import create_user

    other, other_token = create_user(
        api.session, "Oscar Other", "escort", department="steelmaking", escort_zones=["smelting"], card="E0000099"
    )
    mine = api.seed_visitor(name="Mine")  # Eve escorts
    theirs = api.seed_visitor(name="Theirs", escort_id=other.id)  # Oscar escorts
    assert api.call("GET", f"/visitors/{mine.visitor_id}", role="escort").status_code == 200
    resp = api.call("GET", f"/visitors/{theirs.visitor_id}", role="escort")
    # 404 like an unknown id, so the answer does not confirm that the id exists
    unknown = api.call("GET", "/visitors/999999", role="escort")
    assert resp.status_code == unknown.status_code == 404 and resp.json["error"] == "not_found"
    assert resp.json["message"].replace(str(theirs.visitor_id), "N") == unknown.json["message"].replace("999999", "N")
    assert "Theirs" not in resp.text
    assert api.call("GET", f"/visitors/{theirs.visitor_id}", token=other_token).status_code == 200
    assert api.call("GET", f"/visitors/{mine.visitor_id}", token=other_token).status_code == 404


def test_a_revoked_form_no_longer_makes_the_visitor_the_escort_s_own(api: Api) -> None:
    """The API and the pages share one "own visitors" predicate: a revoked form does not count."""
    from zones.services import revoke_contact_form

    seeded = api.seed_visitor(name="Was Mine")  # Eve escorts; reception hosts the visit
    assert api.call("GET", f"/visitors/{seeded.visitor_id}", role="escort").status_code == 200
    revoke_contact_form(
        api.session,
        seeded.form_id,
        api.staff.officer_steel.id,
        "visit cancelled",
        zones=api.app.extensions["sitegate"].zones,
    )
    resp = api.call("GET", f"/visitors/{seeded.visitor_id}", role="escort")
    assert resp.status_code == 404 and resp.json["error"] == "not_found"
