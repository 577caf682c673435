"""The pages through Flask's test client, on SQLite and PostgreSQL (``engine`` fixture):
CSRF on every form, masked personal data (R20), an escort's own visitors only, roles,
check-out listing what is still out (R12), the emergency's confirmation step (R16), the
monthly chart (R19) and the language chosen per user or by the site (part 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.e2e.conftest import ROOT, STAFF, User
from zones.config import parse_config

ID_NUMBER = "440524198805150011"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
OFFICER_PAGES = [
    "/panel/",
    "/panel/visitors",
    "/panel/visits",
    "/panel/forms",
    "/panel/forms/new",
    "/panel/education/new",
    "/panel/expiring",
    "/panel/events",
    "/panel/breaches",
    "/panel/stats",
    "/panel/muster",
    "/panel/emergency",
]
DESK_PAGES = [
    "/panel/",
    "/panel/visitors",
    "/panel/visitors/new",
    "/panel/visits",
    "/panel/visits/new",
    "/panel/forms",
    "/panel/forms/new",
    "/panel/expiring",
]


def make_app(engine: Any, tmp_path: Path, language: str = "en") -> Any:
    from web.app import create_app

    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace('language = "en"', f'language = "{language}"\nsecret_key_file = "{tmp_path / "secret"}"')
    )
    return create_app(parse_config(text), engine=engine, testing=True)


# the browser tests' staff, a guard who reads Chinese (employee.language) and a second escort
USERS: dict[str, User] = {
    **STAFF,
    "guard": User("Qian Bo", "guard-pass-1", "guard"),
    "other_escort": User("Sun Tao", "escort-pass-2", "escort", "assembly", "E0000009", ("assembly",)),
}


@pytest.fixture
def staff(session: Any) -> dict[str, int]:
    from zones.services import create_user

    ids = {}
    for key, u in USERS.items():
        emp, _ = create_user(
            session,
            u.name,
            u.role,
            u.department,
            list(u.escort_zones),
            u.card,
            u.password,
            phone=u.phone,
            dispatch_room=u.dispatch_room,
            language="zh" if key == "guard" else None,
        )
        ids[key] = emp.id
    return ids


@pytest.fixture
def app(engine: Any, tmp_path: Path, staff: dict[str, int]) -> Any:
    return make_app(engine, tmp_path)


def as_user(app: Any, key: str) -> tuple[FlaskClient, str]:
    """A client signed in as USERS[key] through the login form, and its CSRF token."""
    client = app.test_client()
    token = TOKEN.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    u = USERS[key]
    resp = client.post("/login", data={"username": u.name, "password": u.password, "csrf_token": token})
    assert resp.status_code == 302, resp.text
    return client, TOKEN.search(client.get("/m/muster" if u.role in ("escort", "guard") else "/panel/").text).group(1)  # type: ignore[union-attr]


def visitor_with_visit(
    session: Any, host_id: int, name: str = "Chen Jing", id_number: str = ID_NUMBER, checked_in: bool = True
) -> tuple[int, int]:
    from zones.services import book_visit, check_in, register_visitor

    v = register_visitor(
        session,
        name=name,
        id_type="resident_id" if id_number == ID_NUMBER else "passport",
        id_number=id_number,
        organisation="Huanan Instruments",
        phone="13800138000",
    )
    visit = book_visit(session, visitor_id=v.id, host_id=host_id, purpose="calibration")
    if checked_in:
        check_in(session, visit.id, id_number)
    return v.id, visit.id


@pytest.mark.parametrize("role, pages", [("officer", OFFICER_PAGES), ("desk", DESK_PAGES)])
def test_every_page_of_the_role_renders_with_a_csrf_token_in_every_form(app: Any, role: str, pages: list[str]) -> None:
    client, _ = as_user(app, role)
    for path in pages:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.text[:500])
        assert "<h1>" in resp.text
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", resp.text, flags=re.S)
        assert forms, path  # at least the header's language switch and sign-out
        for form in forms:
            assert 'name="csrf_token"' in form, (path, form[:200])


def test_a_post_without_the_csrf_token_is_refused(app: Any) -> None:
    client, _ = as_user(app, "officer")
    resp = client.post("/panel/emergency", data={"active": "1", "reason": "fire"})
    assert resp.status_code == 400
    assert "security token" in resp.text  # our error page, not a bare werkzeug one


def test_identity_and_phone_masked_except_for_the_safety_officer_r20(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    vid, _ = visitor_with_visit(session, staff["escort"])
    desk, _ = as_user(app, "desk")
    page = desk.get(f"/panel/visitors/{vid}").text
    assert ID_NUMBER not in page and "440***********0011" in page
    assert "13800138000" not in page and "138****8000" in page
    assert ID_NUMBER not in desk.get("/panel/visitors").text
    officer, _ = as_user(app, "officer")
    assert ID_NUMBER in officer.get(f"/panel/visitors/{vid}").text


def test_an_escort_sees_only_their_own_visitors(app: Any, session: Any, staff: dict[str, int]) -> None:
    mine, _ = visitor_with_visit(session, staff["escort"])
    theirs, _ = visitor_with_visit(session, staff["other_escort"], name="Ma Li", id_number="P7654321")
    client, _ = as_user(app, "escort")
    listing = client.get("/panel/visitors").text
    assert "Chen Jing" in listing and "Ma Li" not in listing
    assert client.get(f"/panel/visitors/{theirs}").status_code == 404
    assert client.get(f"/panel/visitors/{mine}").status_code == 200
    handheld = client.get("/m/visitors").text
    assert "Chen Jing" in handheld and "Ma Li" not in handheld
    assert "138****8000" in handheld


def test_roles_without_the_permission_get_the_403_page(app: Any) -> None:
    guard, _ = as_user(app, "guard")
    for path in ("/panel/education/new", "/panel/visitors/new", "/panel/breaches", "/panel/stats"):
        resp = guard.get(path)
        assert resp.status_code == 403, path
    escort, _ = as_user(app, "escort")
    assert escort.get("/panel/").status_code == 302  # escorts land on the handheld pages
    assert escort.get("/m/lookup").status_code == 200
    signed_out = app.test_client()
    assert signed_out.get("/panel/visits").headers["Location"].startswith("/login")


def test_check_out_lists_the_badge_and_helmet_still_out_r12(app: Any, session: Any, staff: dict[str, int]) -> None:
    from zones.services import issue_badge, issue_helmet

    vid, visit_id = visitor_with_visit(session, staff["escort"])
    issue_badge(session, visit_id, "VB000777")
    issue_helmet(session, vid, "H-9")
    client, token = as_user(app, "desk")
    resp = client.post(f"/panel/visits/{visit_id}/check-out", data={"csrf_token": token}, follow_redirects=True)
    assert "Cannot check out yet; still out: badge VB000777, helmet H-9" in resp.text
    client.post("/panel/badges/VB000777/return", data={"csrf_token": token})
    client.post("/panel/helmets/return", data={"csrf_token": token, "visitor_id": vid, "helmet_no": "H-9"})
    resp = client.post(f"/panel/visits/{visit_id}/check-out", data={"csrf_token": token}, follow_redirects=True)
    assert "the visit is closed" in resp.text


def test_emergency_needs_a_confirmed_post_with_a_reason_r16(app: Any, session: Any) -> None:
    from zones.services import read_emergency

    client, token = as_user(app, "officer")
    assert "Confirm emergency" in client.get("/panel/emergency").text
    session.expire_all()
    assert not read_emergency(session).emergency_active  # the page alone changes nothing
    resp = client.post("/panel/emergency", data={"csrf_token": token, "active": "1", "reason": ""})
    assert resp.status_code == 200 and "field-error" in resp.text
    session.expire_all()
    assert not read_emergency(session).emergency_active
    resp = client.post("/panel/emergency", data={"csrf_token": token, "active": "1", "reason": "gas alarm"})
    assert resp.headers["Location"].endswith("/panel/muster")
    session.expire_all()
    assert read_emergency(session).emergency_active


def test_monthly_chart_has_a_bar_per_denied_rule_r19(app: Any, session: Any) -> None:
    from zones.central import ship_events

    now = datetime.now(UTC)
    ship_events(
        session,
        [
            {
                "key": f"k{i}",
                "at": now,
                "kind": "decision",
                "gate": "smelting-east",
                "zone": "smelting",
                "card": "X",
                "allowed": False,
                "reasons": reasons,
            }
            for i, reasons in enumerate(
                [[{"rule": "R5", "message": "m"}, {"rule": "R8", "message": "m"}], [{"rule": "R5", "message": "m"}]]
            )
        ],
    )
    client, _ = as_user(app, "officer")
    page = client.get(f"/panel/stats?month={now.astimezone().strftime('%Y-%m')}").text
    chart = page[page.index('data-test="chart"') :]
    svg = chart[chart.index("<svg") : chart.index("</svg>")]
    assert svg.count('class="bar"') == 2
    assert "R5 Contact form: 2" in svg and "R8 Education card: 1" in svg  # rules with their names
    events = client.get("/panel/events?allowed=no").text
    assert events.count('<span class="rule">R5 Contact form</span>') == 2  # every reason shown


def test_language_per_user_then_site_default(engine: Any, tmp_path: Path, app: Any) -> None:
    guard, _ = as_user(app, "guard")  # employee.language = "zh"
    page = guard.get("/m/muster").text
    assert '<html lang="zh-CN">' in page and "清点名单" in page
    officer, token = as_user(app, "officer")  # no language of their own: the site's
    assert "<h1>Dashboard</h1>" in officer.get("/panel/").text
    officer.post("/panel/language", data={"csrf_token": token, "lang": "zh", "next": "/panel/"})
    assert "总览" in officer.get("/panel/").text
    again, _ = as_user(app, "officer")  # a new browser: the choice was saved on the user
    assert "总览" in again.get("/panel/").text
    zh_site = make_app(engine, tmp_path, language="zh")
    assert "登录" in zh_site.test_client().get("/login").text


def test_expiring_soon_lists_education_ending_within_14_days_by_escort_and_host_r8(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from datetime import timedelta

    from tests.education import educate
    from zones.calendar import add_months
    from zones.services import create_contact_form

    now = datetime.now(UTC)
    soon, _ = visitor_with_visit(session, staff["escort"])
    later, _ = visitor_with_visit(session, staff["escort"], name="Ma Li", id_number="P7654321")
    for vid, days_left in ((soon, 5), (later, 40)):
        delivered = datetime.combine(add_months(now.date(), -3) + timedelta(days=days_left), now.time(), UTC)
        educate(
            session,
            visitor_id=vid,
            educator_id=staff["officer"],
            delivered_at=delivered,
            method="verbal",
            timezone="UTC",
        )
    create_contact_form(
        session,
        visitor_id=soon,
        zones=["assembly"],
        escort_id=staff["other_escort"],
        purpose="audit",
        valid_from=now,
        valid_until=now + timedelta(days=30),
    )
    client, _ = as_user(app, "officer")
    page = client.get("/panel/expiring").text
    assert page.count("Chen Jing") == 2 and "Ma Li" not in page  # once by escort, once by host
    by_escort = page[page.index("By escort") : page.index("By host")]
    assert "<h3>Sun Tao</h3>" in by_escort
    assert "<h3>Zhao Lei</h3>" in page[page.index("By host") :]


def test_an_escort_cannot_open_other_visitors_visits_or_education_cards(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from tests.education import educate

    visitor_with_visit(session, staff["escort"])
    theirs, _ = visitor_with_visit(session, staff["other_escort"], name="Ma Li", id_number="P7654321")
    edu = educate(session, visitor_id=theirs, educator_id=staff["officer"], delivered_at=datetime.now(UTC))
    client, _ = as_user(app, "escort")
    visits = client.get("/panel/visits").text
    assert "Chen Jing" in visits and "Ma Li" not in visits
    assert client.get(f"/panel/education/{edu.id}/card").status_code == 404
    officer, _ = as_user(app, "officer")
    assert "Ma Li" in officer.get(f"/panel/education/{edu.id}/card").text


def test_handheld_lookup_gives_every_zone_and_every_reason(app: Any, session: Any, staff: dict[str, int]) -> None:
    from zones.services import issue_badge

    _, visit_id = visitor_with_visit(session, staff["escort"])
    issue_badge(session, visit_id, "0A0000BEEF")
    client, _ = as_user(app, "escort")
    page = client.get("/m/lookup?card=0a0000beef").text
    assert page.count('class="zone-result denied"') == 2  # no form, no education yet
    assert (
        '<span class="rule">R5 No contact form</span>' in page
        and '<span class="rule">R8 No safety education</span>' in page
    )
    unknown = client.get("/m/lookup?card=NOSUCHCARD").text
    assert unknown.count('<span class="rule">R3 Unknown card</span>') == 2
    guard, token = as_user(app, "guard")  # Chinese reader: the rule messages too
    guard.post("/panel/language", data={"csrf_token": token, "lang": "zh", "next": "/m/"})
    zh = guard.get("/m/lookup?card=NOSUCHCARD").text
    assert "不是有效的访客证" in zh and "不允许" in zh


def test_officer_resets_anti_passback_from_the_visitor_record_r15(
    app: Any, session: Any, staff: dict[str, int]
) -> None:
    from zones.central import ship_events
    from zones.schema import Presence

    vid, _ = visitor_with_visit(session, staff["escort"])
    ship_events(
        session,
        [
            {
                "key": "p1",
                "at": datetime.now(UTC),
                "kind": "passage",
                "zone": "assembly",
                "person_id": vid,
                "passed": True,
                "direction": "in",
            }
        ],
    )
    client, token = as_user(app, "officer")
    assert "Reset anti-passback" in client.get(f"/panel/visitors/{vid}").text
    resp = client.post(
        f"/panel/visitors/{vid}/passback-reset", data={"csrf_token": token, "zone": "assembly"}, follow_redirects=True
    )
    assert "may enter again" in resp.text and "not inside a production zone" in resp.text
    session.expire_all()
    assert session.get(Presence, vid) is None
    desk, desk_token = as_user(app, "desk")
    resp = desk.post(f"/panel/visitors/{vid}/passback-reset", data={"csrf_token": desk_token, "zone": "assembly"})
    assert resp.status_code == 403


def test_the_site_root_leads_to_the_pages(app: Any) -> None:
    client = app.test_client()
    assert client.get("/").headers["Location"] == "/panel/"
    assert client.get("/panel/").headers["Location"].startswith("/login")


def test_a_ban_is_recorded_listed_and_closes_the_visit_r17(app: Any, session: Any, staff: dict[str, int]) -> None:
    from zones.schema import Visit

    vid, visit_id = visitor_with_visit(session, staff["escort"])
    client, token = as_user(app, "officer")
    assert f'<option value="{vid}" selected>' in client.get(f"/panel/breaches?person_id={vid}").text
    resp = client.post(
        "/panel/breaches",
        data={"csrf_token": token, "person_id": vid, "rule": "R13", "severity": "ban", "days": "30", "note": "smoking"},
    )
    assert resp.status_code == 200 and "names the prohibition broken (1-7)" in resp.text  # R13 names which
    resp = client.post(
        "/panel/breaches",
        data={
            "csrf_token": token,
            "person_id": vid,
            "rule": "R13",
            "prohibition": "1",
            "severity": "ban",
            "days": "30",
            "note": "smoking",
        },
        follow_redirects=True,
    )
    assert "Breach recorded" in resp.text
    bans = resp.text[resp.text.index("Active bans") : resp.text.index("<h2>Breaches</h2>")]
    assert "Chen Jing" in bans and "R13: smoking" in bans
    session.expire_all()
    assert session.get(Visit, visit_id).state == "closed"
    resp = client.post(
        "/panel/breaches",
        data={
            "csrf_token": token,
            "person_id": vid,
            "rule": "R13",
            "prohibition": "1",
            "severity": "ban",
            "days": "",
            "note": "x",
        },
    )
    assert resp.status_code == 200 and "a ban needs a number of days" in resp.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_the_language_switch_does_not_redirect_off_site(app: Any, target: str) -> None:
    client, token = as_user(app, "officer")
    resp = client.post("/panel/language", data={"csrf_token": token, "lang": "zh", "next": target})
    assert resp.headers["Location"] == "/panel/"


def test_dashboard_shows_reader_health_and_io_fault(app: Any, session: Any) -> None:
    """Gate health on the dashboard: reader online/offline, OSDP secure channel and tamper,
    discarded frames (design.md: frame errors visible on the gate's health), I/O faults."""
    from zones.central import report_gate_health

    reader = {
        "online": False,
        "secure": True,
        "tamper": "tamper",
        "frames": 12,
        "discarded": 3,
        "last_error": "port /dev/ttyUSB0 gone",
    }
    report_gate_health(
        session,
        "smelting-east",
        "test",
        "faulted",
        0.4,
        {
            "zone": "smelting",
            "direction": "in",
            "io_connected": False,
            "reader": reader,
            "last_fault": "Modbus tcp://10.0.0.5:502 unreachable",
        },
    )
    session.commit()
    client, _ = as_user(app, "officer")
    page = client.get("/panel/").text
    for text in (
        "offline",
        "secure channel",
        "tamper",
        "12 reads, 3 frames discarded",
        "port /dev/ttyUSB0 gone",
        "I/O module unreachable",
        "Modbus tcp://10.0.0.5:502 unreachable",
    ):
        assert text in page, text
