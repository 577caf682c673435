"""The API at its edges (issue 10, findings 2, 4, 5, 7, 9): values no caller should send get a
4xx in the contract's shape and never a 500; what a role may not know is not confirmed to it.
SQLite only: the answers are decided before the database is asked."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest

from tests.integration.api.conftest import AT, Api, resident_id

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

BIG = 2**63
INT_MAX = 2**31 - 1  # row ids are INTEGER columns
DIGITS_5000 = "9" * 5000
FAR_DATES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z"]


def assert_contract_error(resp: Any, *statuses: int) -> dict[str, Any]:
    """A 4xx in the contract's shape (contract.md): ``error`` always, ``fields`` for 422,
    ``message`` otherwise."""
    assert resp.status_code in statuses, (resp.status_code, resp.get_data(as_text=True)[:300])
    body = resp.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    if resp.status_code == 422:
        assert body["error"] == "validation" and body["fields"], body
        assert all(set(f) == {"field", "message"} for f in body["fields"])
    else:
        assert isinstance(body.get("message"), str), body
    return body


def fields_of(resp: Any) -> set[str]:
    return {f["field"] for f in assert_contract_error(resp, 422)["fields"]}


def visit_body(api: Api, **over: Any) -> dict[str, Any]:
    body = {"visitor_id": 1, "host_id": api.staff.reception.id, "purpose": "audit"}
    body.update(over)
    return body


@pytest.mark.parametrize(
    "path",
    [
        f"/visitors/{INT_MAX + 1}",
        f"/visitors/{BIG}",
        f"/visitors/{10**30}",
        f"/visitors/{DIGITS_5000}",
        "/visitors/0",
        f"/visits/{BIG}/check-out",
        f"/contact-forms/{INT_MAX + 1}/approve",
    ],
)
def test_path_ids_beyond_an_integer_column_are_404(api: Api, path: str) -> None:
    method = "POST" if path.endswith(("check-out", "approve")) else "GET"
    assert_contract_error(api.call(method, path, role="safety_officer"), 404)


def test_a_body_nested_100000_deep_is_400(api: Api) -> None:
    resp = api.call("POST", "/visitors", data="[" * 100_000, content_type="application/json")
    assert assert_contract_error(resp, 400)["error"] == "malformed_json"


def test_a_5000_digit_integer_is_refused(api: Api) -> None:
    raw = '{"visitor_id": ' + DIGITS_5000 + ', "host_id": 1, "purpose": "x"}'
    assert_contract_error(api.call("POST", "/visits", data=raw, content_type="application/json"), 400, 422)


@pytest.mark.parametrize("value", [INT_MAX + 1, BIG, -1, 0, True, "5", 1.5])
def test_ids_are_strict_bounded_integers(api: Api, value: Any) -> None:
    resp = api.call("POST", "/visits", json=visit_body(api, visitor_id=value))
    assert fields_of(resp) == {"visitor_id"}


@pytest.mark.parametrize("at", FAR_DATES)
def test_times_at_year_1_or_9999_are_422(api: Api, at: str) -> None:
    assert fields_of(api.call("POST", "/visits", json=visit_body(api, expected_at=at))) == {"expected_at"}
    resp = api.call("GET", "/events", role="guard", query_string={"since": at})
    assert fields_of(resp) == {"since"}
    resp = api.call("GET", "/zones/smelting/check", role="guard", query_string={"card": "0A00000001", "at": at})
    assert fields_of(resp) == {"at"}


def test_a_form_valid_until_year_9999_is_422(api: Api) -> None:
    seeded = api.seed_visitor()
    body = {
        "visitor_id": seeded.visitor_id,
        "zones": ["smelting"],
        "escort_id": api.staff.escort.id,
        "purpose": "audit",
        "valid_from": AT.isoformat(),
        "valid_until": "9999-12-31T23:59:59-12:00",
    }
    assert fields_of(api.call("POST", "/contact-forms", json=body)) == {"valid_until"}


def test_a_birth_date_at_year_1_is_422(api: Api) -> None:
    body = {"name": "P Q", "id_type": "passport", "id_number": "E1234567", "birth_date": "0001-01-01"}
    assert fields_of(api.call("POST", "/visitors", json=body)) == {"birth_date"}


def test_a_ban_of_10_to_the_9_days_is_422(api: Api) -> None:
    seeded = api.seed_visitor()
    body = {"person_id": seeded.visitor_id, "rule": "R9", "severity": "ban", "days": 10**9}
    assert fields_of(api.call("POST", "/breaches", role="safety_officer", json=body)) == {"days"}


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "2026-13", "1-1"])
def test_stats_for_a_month_out_of_range_is_422(api: Api, month: str) -> None:
    resp = api.call("GET", "/stats/monthly", role="safety_officer", query_string={"month": month})
    assert fields_of(resp) == {"month"}


def _old_cursor(event_id: int) -> str:
    """A cursor of the old form (pages by id), as clients may still hold."""
    return base64.urlsafe_b64encode(f"e{event_id}".encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor", [_old_cursor(BIG), _old_cursor(10**40), "ZS0x", "e" * 300, "%%%", "ZTk5OTk5OTk5OTk5OTk5OTk5OTk5"]
)
def test_event_cursors_out_of_range_are_422(api: Api, cursor: str) -> None:
    resp = api.call("GET", "/events", role="guard", query_string={"cursor": cursor})
    assert fields_of(resp) == {"cursor"}


@pytest.mark.parametrize("limit", [DIGITS_5000, "0", "-1", "1001"])
def test_event_limits_out_of_range_are_422(api: Api, limit: str) -> None:
    assert fields_of(api.call("GET", "/events", role="guard", query_string={"limit": limit})) == {"limit"}


def test_a_body_over_one_mebibyte_is_413_in_the_json_shape(api: Api) -> None:
    body = {"active": True, "reason": "x" * (5 * 1024 * 1024)}
    resp = api.call("POST", "/emergency", role="safety_officer", json=body)
    assert assert_contract_error(resp, 413)["error"] == "too_large"


def test_every_string_and_list_has_a_maximum(api: Api) -> None:
    seeded = api.seed_visitor()
    long_name = {"name": "x" * 201, "id_type": "passport", "id_number": "E1"}
    assert fields_of(api.call("POST", "/visitors", json=long_name)) == {"name"}
    reason = {"active": True, "reason": "r" * 2001}
    assert fields_of(api.call("POST", "/emergency", role="safety_officer", json=reason)) == {"reason"}
    education = {
        "visitor_id": seeded.visitor_id,
        "department": "steelmaking",
        "method": "video",
        "topics": ["hazards"] * 101,
        "delivered_at": AT.isoformat(),
        "notification_signed": True,
        "signature": "data:image/png;base64," + "A" * (600 * 1024),
    }
    resp = api.call("POST", "/education", role="safety_officer", json=education)
    assert fields_of(resp) == {"topics", "signature"}


@pytest.mark.parametrize("bad", ["\u202eevil", "a\x00b", "line\nbreak", "\u2066x\u2069", "bell\x07", "c1\x85c1"])
def test_control_and_bidi_characters_are_refused_naming_the_field(api: Api, bad: str) -> None:
    resp = api.call("POST", "/visitors", json={"name": bad, "id_type": "passport", "id_number": "E1234567"})
    assert fields_of(resp) == {"name"}
    resp = api.call("POST", "/visits/1/badge", json={"card": bad})
    assert fields_of(resp) == {"card"}
    resp = api.call("GET", "/zones/smelting/check", role="guard", query_string={"card": bad})
    assert fields_of(resp) == {"card"}


def test_free_text_keeps_line_breaks_but_not_overrides(api: Api) -> None:
    ok = api.call("POST", "/emergency", role="safety_officer", json={"active": False, "reason": "drill\nover\tnow"})
    assert ok.status_code == 200, ok.json
    bad = api.call("POST", "/emergency", role="safety_officer", json={"active": False, "reason": "x\u202ey"})
    assert fields_of(bad) == {"reason"}


def test_reception_cannot_confirm_a_number_by_registering_it(api: Api) -> None:
    """R20: a guessed identity number with another name gets a conflict that names nobody."""
    seeded = api.seed_visitor(name="Vera Visitor")
    resp = api.call(
        "POST", "/visitors", json={"name": "Guess Work", "id_type": "resident_id", "id_number": seeded.id_number}
    )
    body = assert_contract_error(resp, 409)
    assert body["items"] == [] and str(seeded.visitor_id) not in json.dumps(body)
    assert "Vera" not in json.dumps(body)


def test_birth_dates_are_the_safety_officer_s_others_see_the_age(api: Api) -> None:
    seeded = api.seed_visitor(birth=date(1990, 3, 7))
    for role in ("reception", "admin"):
        body = api.call("GET", f"/visitors/{seeded.visitor_id}", role=role).json
        assert body["birth_date"] is None and body["age"] >= 36, role
    body = api.call("GET", f"/visitors/{seeded.visitor_id}", role="safety_officer").json
    assert body["birth_date"] == "1990-03-07"


def test_an_escort_lookup_names_only_their_own_visitors_and_themselves(api: Api) -> None:
    from zones.services import create_user

    other, _ = create_user(api.session, "Oscar Other", "escort", department="steelmaking", escort_zones=["smelting"])
    mine = api.seed_visitor(name="Mine Visitor")
    theirs = api.seed_visitor(name="Their Visitor", birth=date(2012, 1, 1), escort_id=other.id)  # a minor
    unknown = api.call("GET", "/zones/smelting/check", role="escort", query_string={"card": "0A0FFFFFFF"}).json

    def check(card: str, role: str = "escort") -> dict[str, Any]:
        resp = api.call("GET", "/zones/smelting/check", role=role, query_string={"card": card, "at": AT.isoformat()})
        assert resp.status_code == 200, resp.json
        return dict(resp.json)

    assert check(mine.card)["person"]["name"] == "Mine Visitor"
    hidden = check(theirs.card)
    assert hidden["person"] is None and "Their Visitor" not in json.dumps(hidden)
    assert [r["code"] for r in hidden["reasons"]] == [r["code"] for r in unknown["reasons"]] == ["unknown-card"]
    assert check("E0000004")["person"]["name"] == "Eve Escort"  # their own card
    assert check(theirs.card, role="guard")["person"]["name"] == "Their Visitor"  # a guard checks anyone


def test_a_4xx_never_writes_a_traceback(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    api.call("POST", "/visitors", data="[" * 100_000, content_type="application/json")
    api.call("GET", f"/visitors/{BIG}")
    api.call("POST", "/visits", json=visit_body(api, visitor_id=True))
    api.call("POST", "/emergency", role="safety_officer", json={"active": True, "reason": "x" * 2_000_000})
    assert not [r for r in caplog.records if r.exc_info or r.levelname in ("ERROR", "CRITICAL")]


@pytest.mark.parametrize("name, outcome", [("Race Winner", "same visitor"), ("Race Loser", "conflict")])
def test_registering_the_same_document_twice_at_once_is_never_a_500(engine: Any, name: str, outcome: str) -> None:
    """Two desks register one document at the same moment: the loser's INSERT meets the
    unique index (IntegrityError) and becomes a registration again (the returning visitor,
    or a Conflict for another name), never a 500."""
    from sqlalchemy import event

    from zones.db import session_factory
    from zones.errors import Conflict
    from zones.services import register_visitor

    number = resident_id(date(1980, 1, 2), 555)
    with session_factory(engine)() as first, session_factory(engine)() as second:
        raced: list[bool] = []

        def other_desk_first(*_: Any) -> None:
            if not raced:  # once: the other desk commits between this one's check and INSERT
                raced.append(True)
                register_visitor(first, name="Race Winner", id_type="resident_id", id_number=number)

        event.listen(second, "before_flush", other_desk_first)
        if outcome == "conflict":
            with pytest.raises(Conflict):
                register_visitor(second, name=name, id_type="resident_id", id_number=number)
        else:
            again = register_visitor(second, name=name, id_type="resident_id", id_number=number, phone="139")
            assert again.name == "Race Winner" and again.phone == "139"
