"""The reception pages through Flask's test client (R21-R23): reception records an incident
and a complaint, the routed department sees its alert and handles them, deadlines shown red
when missed, the in-person follow-up refused without the signature, the statistics page's
reception charts, and the downloads masked except for the safety officer (R20)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.e2e.test_pages_client import TOKEN, make_app, visitor_with_visit
from tests.education import ALL_TOPICS, SIGNATURE

PASSWORD = "reception-pass-1"


@pytest.fixture
def staff(session: Any) -> dict[str, int]:
    from zones.services import create_user

    ids = {}
    for key, name, role, department in [
        ("desk", "Liu Yang", "reception", None),
        ("hr", "He Rong", "escort", "human-resources"),
        ("officer", "Wang Fang", "safety_officer", "steelmaking"),
        ("guard", "Qian Bo", "guard", None),
    ]:
        emp, _ = create_user(session, name, role, department, password=PASSWORD)
        ids[key] = emp.id
    return ids


@pytest.fixture
def app(engine: Any, tmp_path: Path, staff: dict[str, int]) -> Any:
    return make_app(engine, tmp_path)


def signed_in(app: Any, name: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = TOKEN.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    resp = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.text
    return client, TOKEN.search(client.get("/panel/incidents").text).group(1)  # type: ignore[union-attr]


def test_reception_records_a_b_incident_and_hr_files_the_report(app: Any, staff: dict[str, int]) -> None:
    desk, token = signed_in(app, "Liu Yang")
    resp = desk.post(
        "/panel/incidents",
        data={
            "csrf_token": token,
            "category": "B",
            "arrived_at": "2026-11-20T10:00",
            "name0": "Bo Former",
            "organisation0": "",
            "id_number0": "",
            "summary": "wants to talk about his dismissal",
        },
        follow_redirects=True,
    )
    assert "routed to Human resources; report due 2026-11-24" in resp.text
    assert 'data-test="report-form"' not in resp.text  # reception records, does not handle
    hr, hr_token = signed_in(app, "He Rong")
    page = hr.get("/panel/incidents").text
    assert 'data-test="alerts"' in page and "wants to talk about his dismissal" in page
    assert 'data-test="overdue"' in page  # due 2026-11-24, long past: red
    incident_id = re.search(r"/panel/incidents/(\d+)/report", page).group(1)  # type: ignore[union-attr]
    resp = hr.post(
        f"/panel/incidents/{incident_id}/report",
        data={"csrf_token": hr_token, "handled_by": staff["hr"], "outcome": "left calmly", "text": "talked, left"},
        follow_redirects=True,
    )
    assert "Report filed" in resp.text and "left calmly" in resp.text
    assert 'data-test="alerts"' not in resp.text
    guard, _ = signed_in(app, "Qian Bo")
    assert "left calmly" in guard.get("/panel/incidents?state=closed").text
    assert guard.post("/panel/incidents", data={"csrf_token": hr_token}).status_code in (400, 403)


def test_complaint_answered_late_is_red_and_in_person_follow_up_needs_the_signature(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from zones.services.reception_complaints import register_complaint

    register_complaint(
        session,
        name="Nina Neighbour",
        contact="13912345678",
        channel="phone",
        subject="dust at night",
        department="steelmaking",
        text="",
        registered_by=staff["desk"],
        settings=app.extensions["sitegate"].config.reception,
        timezone="Asia/Shanghai",
        now=datetime.now(UTC) - timedelta(days=14),
    )
    desk, _ = signed_in(app, "Liu Yang")
    page = desk.get("/panel/complaints").text
    assert 'data-test="overdue"' in page and "139****5678" in page and "13912345678" not in page
    officer, token = signed_in(app, "Wang Fang")
    page = officer.get("/panel/complaints?overdue=yes").text
    assert "13912345678" in page and "Complaint answer overdue" in page
    cid = re.search(r"/panel/complaints/(\d+)/answer", page).group(1)  # type: ignore[union-attr]
    page = officer.post(
        f"/panel/complaints/{cid}/answer", data={"csrf_token": token, "text": "filters"}, follow_redirects=True
    ).text
    assert 'data-test="late"' in page
    officer.post(f"/panel/complaints/{cid}/close", data={"csrf_token": token})
    assert "sigpad" in officer.get(f"/panel/complaints/{cid}/follow-up").text
    refused = officer.post(
        f"/panel/complaints/{cid}/follow-up",
        data={"csrf_token": token, "method": "in-person", "satisfaction": "4", "note": "ok", "signature": ""},
    )
    assert refused.status_code == 200 and "needs the person&#39;s signature" in refused.text
    done = officer.post(
        f"/panel/complaints/{cid}/follow-up",
        data={"csrf_token": token, "method": "phone", "satisfaction": "5", "note": "ok"},
        follow_redirects=True,
    )
    assert "Follow-up recorded" in done.text and "followed up" in done.text


def test_downloads_and_statistics_charts(app: Any, staff: dict[str, int]) -> None:
    desk, token = signed_in(app, "Liu Yang")
    desk.post(
        "/panel/incidents",
        data={
            "csrf_token": token,
            "category": "A",
            "arrived_at": "2026-11-20T10:00",
            "name0": "Ann Angry",
            "id_number0": "P1234567890",
            "summary": "shouts at the gate",
        },
    )
    page = desk.get("/panel/incidents").text
    assert "/panel/exports/incidents.xlsx" in page and "P12****7890" in page
    sheet = load_workbook(io.BytesIO(desk.get("/panel/exports/incidents.xlsx").data)).active
    assert sheet is not None and "P12****7890" in [c.value for c in sheet[2]]
    officer, _ = signed_in(app, "Wang Fang")
    sheet = load_workbook(io.BytesIO(officer.get("/panel/exports/incidents.xlsx").data)).active
    assert sheet is not None and "P1234567890" in [c.value for c in sheet[2]]
    assert desk.get("/panel/exports/stats.xlsx").status_code == 403
    stats = officer.get("/panel/stats?month=2026-11").text
    assert 'data-test="reception"' in stats and "Incidents by category (R21)" in stats and "<svg" in stats
    zh = officer.get("/panel/complaints", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200


def test_R21_C_a_safety_department_officer_admits_the_inspector_with_the_verbal_briefing(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    """A category C inspector gets the walk-in exception (R1) with the safety & environment
    department's verbal briefing (R6) and signed card (R7) from the incident's row; both are
    recorded together, so a refused form grants nothing."""
    from zones.schema import Education, Visit
    from zones.services import create_user

    create_user(session, "Su An", "safety_officer", "safety", password=PASSWORD)
    visitor_id, visit_id = visitor_with_visit(session, staff["desk"], name="Ivy Inspector", id_number="INSP0001")
    desk, token = signed_in(app, "Liu Yang")
    desk.post(
        "/panel/incidents",
        data={
            "csrf_token": token,
            "category": "C",
            "arrived_at": "2026-11-20T10:00",
            "name0": "Ivy Inspector",
            "organisation0": "Tax bureau",
            "id_number0": "insp0001",
            "summary": "unannounced tax inspection",
        },
    )
    assert 'data-test="admit-inspector"' not in desk.get("/panel/incidents").text  # reception does not educate
    officer, officer_token = signed_in(app, "Su An")
    page = officer.get("/panel/incidents").text
    link = re.search(r'data-test="admit-inspector" href="([^"]+)"', page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    form_page = officer.get(link).text
    assert 'data-test="inspector-admission"' in form_page and 'name="reason"' in form_page
    incident_id = re.search(r"incident_id=(\d+)", link).group(1)  # type: ignore[union-attr]
    data = {
        "csrf_token": officer_token,
        "incident_id": incident_id,
        "visitor_id": str(visitor_id),
        "topics": ALL_TOPICS,
        "zones": ["smelting"],
        "signature": SIGNATURE,
        "reason": "",
    }
    refused = officer.post("/panel/education/new", data=data)
    assert refused.status_code == 200 and "a walk-in exception needs its reason (R1)" in refused.text
    session.expire_all()
    assert session.get(Visit, visit_id).walk_in_approved_by is None
    assert session.query(Education).filter_by(visitor_id=visitor_id).count() == 0
    done = officer.post("/panel/education/new", data={**data, "reason": "tax inspection"}, follow_redirects=True)
    assert "Inspector admitted" in done.text
    session.expire_all()
    assert session.get(Visit, visit_id).walk_in_approved_by is not None
    edu = session.query(Education).filter_by(visitor_id=visitor_id).one()
    assert (edu.department, edu.method, edu.zones) == ("safety", "verbal", ["smelting"])
