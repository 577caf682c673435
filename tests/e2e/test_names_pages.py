"""Names, not codes, through Flask's test client: rules carry their names, departments and
zones their names in the page's language, a Chinese denial names the zone in Chinese, the
403 page speaks the page's language, and Chinese pages take dates year first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.e2e import test_pages_client as pages
from tests.e2e.test_pages_client import as_user

app, staff = pages.app, pages.staff  # the page-client fixtures, shared with this module


def chinese(client: Any, token: str, next_page: str = "/panel/") -> None:
    client.post("/panel/language", data={"csrf_token": token, "lang": "zh", "next": next_page})


def test_a_403_page_is_in_the_pages_language(app: Any) -> None:
    guard, token = as_user(app, "guard")  # a guard who reads Chinese (employee.language)
    resp = guard.get("/panel/stats")
    assert resp.status_code == 403
    assert "无权操作" in resp.text and "您的角色（门卫）无权访问此页面或执行此操作。" in resp.text
    assert "may not" not in resp.text and "stats.read" not in resp.text  # no English sentence
    guard.post("/panel/language", data={"csrf_token": token, "lang": "en", "next": "/m/"})
    page = guard.get("/panel/stats").text
    assert "Your role (Guard) does not allow this page or action." in page


def test_a_chinese_denial_names_the_zone_and_department_in_chinese(app: Any, session: Any) -> None:
    from zones.central import ship_events
    from zones.messages import reason

    denied = [reason("no-education", department="steelmaking"), reason("no-helmet", zone="Smelting workshop")]
    ship_events(
        session,
        [
            {
                "key": "names-1",
                "at": datetime.now(UTC),
                "kind": "decision",
                "gate": "smelting-east",
                "zone": "smelting",
                "card": "0A00C0FFEE",
                "allowed": False,
                "reasons": [
                    {"rule": r.rule, "code": r.code, "message": r.message, "params": dict(r.params)} for r in denied
                ],
            }
        ],
    )
    officer, token = as_user(app, "officer")
    english = officer.get("/panel/events").text
    assert "R8 No safety education" in english and "no safety education by Steelmaking on record" in english
    chinese(officer, token)
    page = officer.get("/panel/events").text
    assert "没有炼钢部的安全教育记录；需由炼钢部安全员进行安全教育" in page
    assert "冶炼车间要求佩戴安全帽" in page and "R12 未领安全帽" in page
    assert "steelmaking的" not in page and "没有steelmaking" not in page


def test_rules_carry_their_names_on_the_breach_form_and_the_chart(app: Any, session: Any) -> None:
    from zones.central import ship_events

    now = datetime.now(UTC)
    ship_events(
        session,
        [
            {
                "key": "names-2",
                "at": now,
                "kind": "decision",
                "gate": "smelting-east",
                "zone": "smelting",
                "card": "X",
                "allowed": False,
                "reasons": [{"rule": "R8", "message": "m"}],
            }
        ],
    )
    officer, token = as_user(app, "officer")
    assert '<option value="R13" selected>R13 Prohibitions</option>' in officer.get("/panel/breaches").text
    chart = officer.get("/panel/stats").text
    assert "R8 Education card: 1" in chart
    chinese(officer, token)
    assert '<option value="R13" selected>R13 禁止事项</option>' in officer.get("/panel/breaches").text
    assert "R8 安全教育卡: 1" in officer.get("/panel/stats").text


def test_departments_show_their_names_in_the_pages_language(app: Any, session: Any) -> None:
    from zones.services import create_user

    create_user(session, "Zhou Min", "admin", None, [], None, "admin-pass-01")
    session.commit()
    admin = app.test_client()
    token = pages.TOKEN.search(admin.get("/login").text).group(1)  # type: ignore[union-attr]
    admin.post("/login", data={"username": "Zhou Min", "password": "admin-pass-01", "csrf_token": token})
    page = admin.get("/panel/departments").text
    assert "<td>Steelmaking</td>" in page and "Liu Yang · admin-office" in page  # unnamed: its id
    assert "<td>Steelmaking</td>" in page and "<td>steelmaking</td>" not in page
    chinese(admin, token)
    page = admin.get("/panel/departments").text
    assert "<td>炼钢部</td>" in page and "<td>调度室</td>" in page and "Wang Fang · 炼钢部" in page
    assert "炼钢部" in admin.get("/panel/users").text


def test_chinese_pages_take_dates_year_first(app: Any) -> None:
    officer, token = as_user(app, "officer")
    assert 'type="month" name="month"' in officer.get("/panel/stats").text  # English: the browser's picker
    chinese(officer, token)
    page = officer.get("/panel/stats").text
    assert 'type="text" name="month"' in page and 'placeholder="2026-01"' in page
    assert 'pattern="[0-9]{4}-[0-9]{2}"' in page and "按年-月-日填写" in page
    assert officer.get("/panel/stats?month=2026-11").status_code == 200


def test_a_service_error_names_departments_zones_and_states_in_chinese(app: Any) -> None:
    from flask import session as browser_session

    from web.i18n import error_text
    from zones.errors import Conflict, NotAllowed, Problem

    refused = NotAllowed(Problem("approver", departments="steelmaking, assembly", zones="smelting"))
    not_pending = Conflict(Problem("form-not-pending", state="approved"), [])
    with app.test_request_context("/panel/forms"):
        browser_session["lang"] = "zh"
        assert error_text(refused) == "R5：只有 炼钢部、装配部 的负责人或安全员可以批准进入 冶炼车间"
        assert "已批准" in error_text(not_pending) and "approved" not in error_text(not_pending)
    with app.test_request_context("/panel/forms"):
        assert "Steelmaking, Assembly" in error_text(refused, "en")


def test_the_server_reads_what_the_chinese_date_fields_ask_for(app: Any) -> None:
    from web.panel.common import parse_date, parse_local_datetime

    problems: list[tuple[str, str]] = []
    with app.test_request_context("/panel/forms/new"):
        at = parse_local_datetime("2026-01-31 08:30", "valid_from", problems)  # the zh placeholder's spelling
        assert at is not None and (at.year, at.month, at.day, at.hour, at.minute) == (2026, 1, 31, 8, 30)
        assert parse_local_datetime("2026-01-31T08:30", "valid_from", problems) == at  # the browser picker's
        assert parse_date("2026-01-31", "birth_date", problems) is not None
        assert not problems
        assert parse_date("01/31/2026", "birth_date", problems) is None and problems  # month first: refused
