"""The reception over HTTP (R21-R23): incidents routed with working-day deadlines, alerts
for the routed department only, R21 at the zone check while an A incident is open,
complaints flagged when answered late, the in-person follow-up's signature, and the
register exports masked for reception and clear for the safety officer (R20)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.integration.api.conftest import AT, Api
from zones.services import create_user
from zones.services.alerts import alerts_for

SIGNATURE = "data:image/png;base64,iVBORw0KGgo="
FRIDAY_10H = "2026-11-20T10:00:00+08:00"


def member(api: Api, name: str, department: str, role: str = "escort") -> tuple[Any, str]:
    emp, token = create_user(api.session, name, role, department=department)
    return emp, token


def incident(api: Api, category: str = "B", **extra: Any) -> Any:
    body = {
        "category": category,
        "people": [{"name": "Bo Former", "organisation": ""}],
        "summary": "asks to see the manager",
        "arrived_at": FRIDAY_10H,
        **extra,
    }
    return api.call("POST", "/incidents", json=body)


def test_incident_recorded_friday_is_routed_and_due_tuesday(api: Api) -> None:
    resp = incident(api, "B")
    assert resp.status_code == 201, resp.json
    assert resp.json["routed_to"] == "human-resources"
    assert resp.json["report_due"] == "2026-11-24"  # Friday + 2 working days: Tuesday
    listed = api.call("GET", "/incidents", role="guard", query_string={"category": "B"}).json
    assert [i["id"] for i in listed] == [resp.json["id"]]
    assert listed[0]["state"] == "open" and listed[0]["report_due"] == "2026-11-24"
    bad = api.call("POST", "/incidents", json={"category": "D", "people": [], "summary": "", "arrived_at": "x"})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json["fields"]} >= {"category", "people", "summary", "arrived_at"}


def test_routing_alerts_reach_only_the_routed_department(api: Api) -> None:
    hr, _ = member(api, "Hana HR", "human-resources")
    cs, _ = member(api, "Carl Service", "customer-service")
    b = incident(api, "B").json["id"]
    a = incident(api, "A").json["id"]
    assert [(x.kind, x.subject_id) for x in alerts_for(api.session, hr)] == [("incident", b)]
    assert [(x.kind, x.subject_id) for x in alerts_for(api.session, cs)] == [("incident", a)]
    assert alerts_for(api.session, api.staff.officer_steel) == []
    assert alerts_for(api.session, api.staff.reception) == []


def test_the_routed_department_files_the_report_and_the_alert_closes(api: Api) -> None:
    hr, hr_token = member(api, "Hana HR", "human-resources")
    incident_id = incident(api, "B").json["id"]
    report = {"handled_by": hr.id, "outcome": "left calmly", "text": "met at the gate, talked, left"}
    # reception records but does not handle; another department neither
    assert api.call("POST", f"/incidents/{incident_id}/report", json=report).status_code == 403
    assert api.call("POST", f"/incidents/{incident_id}/report", role="escort", json=report).status_code == 403
    resp = api.call("POST", f"/incidents/{incident_id}/report", token=hr_token, json=report)
    assert resp.status_code == 200, resp.json
    assert api.call("POST", f"/incidents/{incident_id}/report", token=hr_token, json=report).status_code == 409
    api.session.expire_all()
    assert [x.state for x in alerts_for(api.session, hr)] == ["closed"]
    closed = api.call("GET", "/incidents", query_string={"state": "closed"}).json
    assert closed[0]["outcome"] == "left calmly" and closed[0]["handled_by"] == hr.id


def test_unreported_incident_is_flagged_overdue_for_its_department(api: Api) -> None:
    hr, _ = member(api, "Hana HR", "human-resources")
    incident(api, "B", arrived_at="2026-01-05T10:00:00+08:00")
    listed = api.call("GET", "/incidents", query_string={"overdue": "true"}).json
    assert len(listed) == 1 and listed[0]["overdue"] is True
    assert api.call("GET", "/incidents", query_string={"overdue": "true"}).json == listed  # sweep idempotent
    kinds = sorted(x.kind for x in alerts_for(api.session, hr, state="open"))
    assert kinds == ["incident", "incident-report-overdue"]


def test_R21_an_A_person_is_denied_at_the_zone_while_the_incident_is_open(api: Api) -> None:
    seeded = api.seed_visitor()
    check = {"card": seeded.card, "escort_card": "E0000004", "at": AT.isoformat()}
    assert api.call("GET", "/zones/smelting/check", role="guard", query_string=check).json["allowed"] is True
    cs, cs_token = member(api, "Carl Service", "customer-service")
    people = [{"name": "Vera Visitor", "organisation": "Acme", "id_number": seeded.id_number.lower()}]
    incident_id = incident(api, "A", people=people).json["id"]
    listed = api.call("GET", "/incidents", role="guard").json
    assert listed[0]["people"][0]["person_id"] == seeded.visitor_id
    assert listed[0]["people"][0]["id_number"] is None  # R20: masked for the guard
    denied = api.call("GET", "/zones/smelting/check", role="guard", query_string=check).json
    assert denied["allowed"] is False
    assert [r["rule"] for r in denied["reasons"]] == ["R21"]
    report = {"handled_by": cs.id, "outcome": "answered", "text": "the complaint was heard"}
    assert api.call("POST", f"/incidents/{incident_id}/report", token=cs_token, json=report).status_code == 200
    assert api.call("GET", "/zones/smelting/check", role="guard", query_string=check).json["allowed"] is True


def test_R21_R1_R6_a_C_inspector_is_admitted_with_the_verbal_briefing(api: Api) -> None:
    """A category C inspector enters on a walk-in exception with the safety department's
    verbal briefing (R21 -> R1, R6); given by an officer of that department, and only for a
    person of the incident."""
    seeded = api.seed_visitor(name="Ivy Inspector")
    people = [{"name": "Ivy Inspector", "organisation": "Tax", "id_number": seeded.id_number}]
    incident_id = incident(api, "C", people=people).json["id"]
    _sid, sid_token = member(api, "Sid Safety", "safety", role="safety_officer")
    topics = [t["code"] for t in api.call("GET", "/education/topics", token=sid_token).json]
    body = {
        "visit_id": seeded.visit_id,
        "reason": "unannounced tax inspection",
        "topics": topics,
        "signature": SIGNATURE,
        "zones": ["smelting"],
    }
    url = f"/incidents/{incident_id}/admit-inspector"
    assert api.call("POST", url, role="reception", json=body).status_code == 403
    steel = api.call("POST", url, token=api.staff.tokens["officer_steel"], json=body)
    assert steel.status_code == 422  # R6: the educator belongs to the department recorded (safety)
    missing = api.call("POST", url, token=sid_token, json={**body, "reason": "", "zones": []})
    assert missing.status_code == 422 and {f["field"] for f in missing.json["fields"]} == {"reason", "zones"}
    assert api.call("POST", "/incidents/999999/admit-inspector", token=sid_token, json=body).status_code == 404
    done = api.call("POST", url, token=sid_token, json=body)
    assert done.status_code == 201, done.json
    assert done.json["department"] == "safety" and done.json["method"] == "verbal"
    b_incident = incident(api, "B", people=people).json["id"]
    refused = api.call("POST", f"/incidents/{b_incident}/admit-inspector", token=sid_token, json=body)
    assert refused.status_code == 422  # only category C


def _complaint(api: Api, **extra: Any) -> int:
    body = {
        "name": "Nina Neighbour",
        "contact": "13912345678",
        "channel": "phone",
        "subject": "dust at night",
        "department": "steelmaking",
        "text": "the dust came again",
        **extra,
    }
    resp = api.call("POST", "/complaints", json=body)
    assert resp.status_code == 201, resp.json
    return int(resp.json["id"])


def test_a_complaint_answered_late_is_flagged(api: Api) -> None:
    from zones.services.reception_complaints import register_complaint

    settings = api.app.extensions["sitegate"].config.reception
    old = register_complaint(
        api.session,
        name="Olaf Old",
        contact="old@example.com",
        channel="letter",
        subject="noise",
        department="steelmaking",
        text="",
        registered_by=api.staff.reception.id,
        settings=settings,
        timezone="Asia/Shanghai",
        now=datetime.now(UTC) - timedelta(days=14),
    )
    fresh = _complaint(api)
    overdue = api.call("GET", "/complaints", query_string={"overdue": "true"}).json
    assert [c["id"] for c in overdue] == [old.id]
    assert [x.kind for x in alerts_for(api.session, api.staff.officer_steel)] == ["complaint-overdue"]
    assert (
        api.call("POST", f"/complaints/{old.id}/answer", role="safety_officer", json={"text": "fixed"}).status_code
        == 200
    )
    assert api.call("POST", f"/complaints/{fresh}/answer", role="escort", json={"text": "fixed"}).status_code == 200
    by_id = {c["id"]: c for c in api.call("GET", "/complaints").json}
    assert by_id[old.id]["answered_late"] is True and by_id[old.id]["overdue"] is False
    assert by_id[fresh]["answered_late"] is False
    api.session.expire_all()
    assert [x.state for x in alerts_for(api.session, api.staff.officer_steel)] == ["closed"]


def test_a_promised_date_is_the_new_deadline(api: Api) -> None:
    complaint = _complaint(api)
    promised = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    resp = api.call(
        "POST",
        f"/complaints/{complaint}/answer",
        role="escort",
        json={"text": "we measure first", "promised_date": promised},
    )
    assert resp.status_code == 200
    row = api.call("GET", "/complaints").json[0]
    assert row["state"] == "open" and row["promised_date"] == promised and row["overdue"] is False
    assert api.call("POST", f"/complaints/{complaint}/close", role="escort").status_code == 409  # not final yet


def test_follow_up_in_person_needs_the_signature(api: Api) -> None:
    complaint = _complaint(api)
    assert (
        api.call(
            "POST", f"/complaints/{complaint}/answer", role="escort", json={"text": "filters replaced"}
        ).status_code
        == 200
    )
    closed = api.call("POST", f"/complaints/{complaint}/close", role="escort")
    assert closed.status_code == 200
    due = datetime.fromisoformat(closed.json["follow_up_due"])
    assert timedelta(hours=23, minutes=59) < due - datetime.now(UTC) <= timedelta(hours=24)
    body = {"method": "in-person", "satisfaction": 4, "note": "content"}
    refused = api.call("POST", f"/complaints/{complaint}/follow-up", role="escort", json=body)
    assert refused.status_code == 422
    assert [f["field"] for f in refused.json["fields"]] == ["signature"]
    bad = api.call("POST", f"/complaints/{complaint}/follow-up", role="escort", json={**body, "satisfaction": 6})
    assert bad.status_code == 422 and "satisfaction" in {f["field"] for f in bad.json["fields"]}
    ok = api.call("POST", f"/complaints/{complaint}/follow-up", role="escort", json={**body, "signature": SIGNATURE})
    assert ok.status_code == 200, ok.json
    assert (
        api.call(
            "POST", f"/complaints/{complaint}/follow-up", role="escort", json={**body, "signature": SIGNATURE}
        ).status_code
        == 409
    )
    row = api.call("GET", "/complaints", query_string={"state": "closed"}).json[0]
    assert row["followed_up"] is True and row["follow_up_overdue"] is False


def test_the_same_matter_raised_again_links_to_the_first_and_is_counted(api: Api) -> None:
    first = _complaint(api)
    second = _complaint(api, related_to=first, department="assembly")
    third = _complaint(api, related_to=second)  # linked to the first, not the second
    by_id = {c["id"]: c for c in api.call("GET", "/complaints").json}
    assert by_id[third]["related_to"] == first and by_id[second]["related_to"] == first
    assert {by_id[i]["times_raised"] for i in (first, second, third)} == {3}
    assert (
        api.call(
            "POST",
            "/complaints",
            json={"name": "x", "channel": "phone", "subject": "s", "department": "d", "related_to": 999999},
        ).status_code
        == 422
    )


def test_guards_read_but_do_not_record(api: Api) -> None:
    assert api.call("GET", "/complaints", role="guard").status_code == 200
    assert incident(api).status_code == 201
    resp = api.call("POST", "/incidents", role="guard", json={})
    assert resp.status_code == 403


def _sheet(resp: Any) -> list[tuple[Any, ...]]:
    assert resp.status_code == 200, resp.data[:200]
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert isinstance(sheet, Worksheet)
    return list(sheet.iter_rows(values_only=True))


def test_xlsx_exports_mask_personal_data_except_for_the_safety_officer(api: Api) -> None:
    seeded = api.seed_visitor()
    people = [{"name": "Vera Visitor", "organisation": "Acme", "id_number": seeded.id_number}]
    incident(api, "A", people=people)
    masked = _sheet(api.call("GET", "/exports/incidents.xlsx"))
    clear = _sheet(api.call("GET", "/exports/incidents.xlsx", role="safety_officer"))
    column = masked[0].index("Identity numbers")
    assert masked[1][column] == seeded.id_number[:3] + "*" * 11 + seeded.id_number[-4:]
    assert clear[1][column] == seeded.id_number
    visitors = _sheet(api.call("GET", "/exports/visitors.xlsx"))
    assert seeded.phone not in visitors[1] and seeded.id_number not in visitors[1]
    assert "138****8000" in visitors[1]
    officer = _sheet(api.call("GET", "/exports/visitors.xlsx", role="safety_officer"))
    assert seeded.phone in officer[1] and seeded.id_number in officer[1]
    csv = api.call("GET", "/exports/complaints.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert api.call("GET", "/exports/nothing.xlsx").status_code == 404
    assert api.call("GET", "/exports/incidents.pdf").status_code == 404
    assert api.call("GET", "/exports/stats.xlsx").status_code == 403  # R19: for the managers
    stats = _sheet(api.call("GET", "/exports/stats.xlsx", role="safety_officer", query_string={"month": "2026-11"}))
    assert ("incidents", "by_category.A", 1) in stats


def test_monthly_statistics_count_incidents_complaints_and_follow_ups(api: Api) -> None:
    incident(api, "A")
    incident(api, "B")
    incident(api, "B")
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    complaint = _complaint(api)
    api.call("POST", f"/complaints/{complaint}/answer", role="escort", json={"text": "done"})
    api.call("POST", f"/complaints/{complaint}/close", role="escort")
    _complaint(api, related_to=complaint)
    stats = api.call("GET", "/stats/monthly", role="safety_officer", query_string={"month": "2026-11"}).json
    assert stats["incidents"] == {"total": 3, "by_category": {"A": 1, "B": 2}}
    now = api.call("GET", "/stats/monthly", role="safety_officer", query_string={"month": month}).json
    assert now["complaints"]["total"] == 2 and now["complaints"]["raised_again"] == 1
    assert now["answer_times"]["answered"] == 1 and now["answer_times"]["late"] == 0
    assert now["follow_up"] == {"closed": 1, "followed_up": 0, "rate": 0.0}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_housekeeping_sweeps_missed_follow_ups(api: Api) -> None:
    from sitegate.maintenance import run_once

    complaint = _complaint(api)
    api.call("POST", f"/complaints/{complaint}/answer", role="escort", json={"text": "done"})
    api.call("POST", f"/complaints/{complaint}/close", role="escort")
    config = api.app.extensions["sitegate"].config
    engine = api.session.get_bind()
    run_once(config, engine, datetime.now(UTC) + timedelta(hours=25), purge=False)
    run_once(config, engine, datetime.now(UTC) + timedelta(hours=26), purge=False)
    api.session.expire_all()
    assert [x.kind for x in alerts_for(api.session, api.staff.officer_steel)] == ["follow-up-overdue"]
