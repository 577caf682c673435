"""The visit's chain of responsibility on the pages (issue 9), through Flask's test client:
a form across two departments approved by each from the panel and from a head's handheld
(R5), department heads named by the admin, education recorded with the zones told and the
visitor's signature and its printed card (R6-R9, R13), permissions on the handheld lookup,
the muster's visitors outside the gated zones (R16) and the month's accountability (R19)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e import test_pages_client as pages
from tests.e2e.test_pages_client import TOKEN, as_user, visitor_with_visit
from tests.education import ALL_TOPICS, SIGNATURE, educate, legacy_education

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

# the page tests' fixtures: the demo plant's app and its staff
app, staff = pages.app, pages.staff


def _local(dt: datetime) -> str:
    """As a datetime-local input sends it, in the site's timezone."""
    return dt.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def _form(app: Any, visitor_id: int, escort_id: int, zones: list[str], permissions: list[str]) -> int:
    desk, token = as_user(app, "desk")
    now = datetime.now(UTC)
    resp = desk.post(
        "/panel/forms/new",
        data={
            "csrf_token": token,
            "visitor_id": visitor_id,
            "zones": zones,
            "escort_ids": [escort_id],
            "permissions": permissions,
            "purpose": "calibration",
            "valid_from": _local(now - timedelta(hours=1)),
            "valid_until": _local(now + timedelta(hours=8)),
        },
    )
    assert resp.status_code == 302, resp.text
    match = re.search(r"Contact form (\d+) created", desk.get("/panel/forms").text)
    assert match is not None
    return int(match.group(1))


def test_r5_each_department_approves_from_the_panel_and_a_head_from_the_handheld(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from zones.services import set_department_head

    vid, _ = visitor_with_visit(session, staff["escort"])
    form_id = _form(app, vid, staff["escort"], ["assembly", "smelting"], ["photography"])
    set_department_head(session, "assembly", staff["other_escort"])

    officer, token = as_user(app, "officer")
    page = officer.get("/panel/forms").text
    assert f'data-test="approve-{form_id}-steelmaking"' in page  # their own department
    assert f'data-test="approve-{form_id}-assembly"' not in page  # not theirs
    assert "Photography" in page
    page = officer.post(f"/panel/forms/{form_id}/approve", data={"csrf_token": token}, follow_redirects=True).text
    assert f"Contact form {form_id}: your approval is recorded; waiting for Assembly." in page
    assert "Assembly pending" in page

    # Sun Tao, an escort by role, heads assembly: his handheld lists the form to approve
    head, token = as_user(app, "other_escort")
    assert 'href="/m/forms"' in head.get("/m/muster").text
    waiting = head.get("/m/forms").text
    assert "Chen Jing" in waiting and "You approve for: Assembly" in waiting
    page = head.post(f"/m/forms/{form_id}/approve", data={"csrf_token": token}, follow_redirects=True).text
    assert f"Contact form {form_id} approved." in page
    assert "No contact form waits for your approval." in page
    # an escort who heads nothing has no forms link and may approve nothing
    escort, token = as_user(app, "escort")
    assert 'href="/m/forms"' not in escort.get("/m/muster").text
    assert "No contact form waits for your approval." in escort.get("/m/forms").text


def test_r5_the_admin_names_department_heads_on_the_panel(app: Any, session: Any, staff: dict[str, int]) -> None:
    from zones.services import create_user, department_head

    create_user(session, "Ada Admin", "admin", password="admin-pass-1")
    admin = app.test_client()
    token = TOKEN.search(admin.get("/login").text).group(1)  # type: ignore[union-attr]
    admin.post("/login", data={"username": "Ada Admin", "password": "admin-pass-1", "csrf_token": token})
    page = admin.get("/panel/departments").text
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    assert 'data-test="head-steelmaking"' in page and 'data-test="head-safety"' in page
    resp = admin.post(
        "/panel/departments",
        data={"csrf_token": token, "department": "steelmaking", "employee_id": staff["escort"]},
        follow_redirects=True,
    )
    assert "Head of Steelmaking saved." in resp.text
    session.expire_all()
    assert department_head(session, "steelmaking") == staff["escort"]
    officer, _ = as_user(app, "officer")
    assert officer.get("/panel/departments").status_code == 403


def test_r6_education_from_the_panel_and_its_printed_card(app: Any, session: Any, staff: dict[str, int]) -> None:
    vid, _ = visitor_with_visit(session, staff["escort"])
    _form(app, vid, staff["escort"], ["smelting"], ["photography", "vehicle"])
    officer, token = as_user(app, "officer")
    form = {
        "csrf_token": token,
        "visitor_id": vid,
        "department": "steelmaking",
        "method": "written",
        "delivered_at": _local(datetime.now(UTC) - timedelta(minutes=5)),
        "topics": ALL_TOPICS,
        "zones": ["smelting"],
    }
    refused = officer.post("/panel/education/new", data=form).text
    assert "the visitor&#39;s signature is required (R7)" in refused
    refused = officer.post("/panel/education/new", data={**form, "signature": SIGNATURE, "topics": ALL_TOPICS[1:]}).text
    assert "every topic is required (R6); missing: hazards" in refused
    card = officer.post("/panel/education/new", data={**form, "signature": SIGNATURE}, follow_redirects=True).text
    assert 'data-test="signature-image"' in card
    assert re.search(r'data-test="card-zones">Smelting workshop<', card)
    assert re.search(r'data-test="card-permissions">Photography, Vehicle<', card)
    # R13 in the regulation's own words, all seven
    assert "No fire sources and no flammable or explosive articles." in card
    assert "No use of mobile phones; no cameras or other non-explosion-proof electrical devices" in card
    assert "Never without the escort." in card and card.count('<li value="') == 7

    old = legacy_education(vid, staff["officer"], datetime.now(UTC) - timedelta(days=20), signed=True)
    session.add(old)
    session.commit()
    legacy = officer.get(f"/panel/education/{old.id}/card").text
    assert 'data-test="signed-on-paper"' in legacy and "record made before cards named zones" in legacy


def test_r13_the_handheld_lookup_shows_what_the_forms_permit(app: Any, session: Any, staff: dict[str, int]) -> None:
    from zones.services import issue_badge

    vid, visit_id = visitor_with_visit(session, staff["escort"])
    issue_badge(session, visit_id, "0A12345678")
    _form(app, vid, staff["escort"], ["smelting"], ["photography"])
    escort, _ = as_user(app, "escort")
    page = escort.get("/m/lookup?card=0A12345678").text
    assert re.search(r'data-test="form-permissions">Permits \(R13\): Photography<', page)


def test_r16_the_muster_pages_list_visitors_outside_the_zones(app: Any, session: Any, staff: dict[str, int]) -> None:
    mine, _ = visitor_with_visit(session, staff["escort"])
    theirs, _ = visitor_with_visit(session, staff["other_escort"], name="Ma Li", id_number="P7654321")
    officer, _ = as_user(app, "officer")
    page = officer.get("/panel/muster").text
    outside = page[page.index('data-test="outside-zones"') :]
    assert "On site, not in a gated zone" in outside and "Chen Jing" in outside and "Ma Li" in outside
    assert "Zhao Lei" in outside  # the host
    escort, token = as_user(app, "escort")
    phone = escort.get("/m/muster").text
    assert f'data-test="mark-{mine}"' in phone and f'data-test="mark-{theirs}"' not in phone
    assert phone.index("Chen Jing") < phone.index("Ma Li")  # their own visitors first
    resp = escort.post(f"/m/muster/{theirs}/accounted", data={"csrf_token": token}, follow_redirects=True)
    assert "R16: escorts mark their own visitors" in resp.text
    resp = escort.post(f"/m/muster/{mine}/accounted", data={"csrf_token": token}, follow_redirects=True)
    assert re.search(rf'class="person accounted" id="person-{mine}"', resp.text)


def test_r19_the_stats_page_shows_breaches_by_prohibition_and_escort(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from zones.services import record_breach

    vid, _ = visitor_with_visit(session, staff["escort"])
    educate(session, visitor_id=vid, educator_id=staff["officer"], delivered_at=datetime.now(UTC))
    record_breach(session, person_id=vid, rule="R13", prohibition=2, severity="warning", seen_by=staff["officer"])
    officer, _ = as_user(app, "officer")
    page = officer.get("/panel/stats").text
    assert 'data-test="unescorted">0<' in page
    by_prohibition = page[page.index('data-test="by-prohibition"') :]
    assert "2. No use of mobile phones" in by_prohibition
