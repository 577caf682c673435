"""The pages' language and translated text through Flask's test client: the order in which a
request's language is chosen (session, user, browser, site), the accepted spellings of
Chinese, service errors said from their code, and text outside the catalogue escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import test_pages_client as pages
from tests.e2e.test_pages_client import as_user, make_app, visitor_with_visit

# the page-client fixtures, shared with this module
app, staff = pages.app, pages.staff


@pytest.mark.parametrize("spelling", ["zh-CN", "zh_CN", "zh-Hans"])
def test_site_language_accepts_the_usual_spellings_of_chinese(
    engine: Any, tmp_path: Path, staff: dict[str, int], spelling: str
) -> None:
    page = make_app(engine, tmp_path, language=spelling).test_client().get("/login").text
    assert '<html lang="zh-CN">' in page and "登录" in page


def test_the_browser_language_comes_before_the_site_default(engine: Any, tmp_path: Path, staff: dict[str, int]) -> None:
    en_site = make_app(engine, tmp_path).test_client()
    assert "登录" in en_site.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).text
    assert "登录" not in en_site.get("/login", headers={"Accept-Language": "fr-FR, en-GB;q=0.5"}).text
    zh_site = make_app(engine, tmp_path, language="zh").test_client()
    assert "登录" not in zh_site.get("/login", headers={"Accept-Language": "en-US"}).text
    assert "登录" in zh_site.get("/login", headers={"Accept-Language": "fr"}).text  # none we have: the site's


def test_the_users_language_comes_before_the_browser_and_the_switch_before_both(app: Any) -> None:
    guard, token = as_user(app, "guard")  # employee.language = "zh"
    assert "清点名单" in guard.get("/m/muster", headers={"Accept-Language": "en"}).text
    guard.post("/panel/language", data={"csrf_token": token, "lang": "en", "next": "/m/"})
    assert "清点名单" not in guard.get("/m/muster", headers={"Accept-Language": "zh-CN"}).text
    guard.post("/panel/language", data={"csrf_token": token, "lang": "zh_CN", "next": "/m/"})
    assert "清点名单" in guard.get("/m/muster").text  # the switch accepts the spellings too


def test_a_service_error_is_shown_in_chinese_from_its_code(app: Any, session: Any, staff: dict[str, int]) -> None:
    from zones.services import issue_badge

    _, visit_id = visitor_with_visit(session, staff["escort"])
    issue_badge(session, visit_id, "VB000123")
    desk, token = as_user(app, "desk")
    desk.post("/panel/language", data={"csrf_token": token, "lang": "zh", "next": "/panel/"})
    page = desk.post(f"/panel/visits/{visit_id}/check-out", data={"csrf_token": token}, follow_redirects=True).text
    assert "暂不能登记离开；尚未归还：访客证 VB000123" in page
    page = desk.post(
        f"/panel/visits/{visit_id}/badge", data={"csrf_token": token, "card": "VB000123"}, follow_redirects=True
    ).text
    assert "卡 VB000123 已发放" in page


def test_text_outside_the_catalogue_is_escaped_not_trusted(app: Any, session: Any, staff: dict[str, int]) -> None:
    from tests.education import legacy_education

    vid, _ = visitor_with_visit(session, staff["escort"])
    # the service refuses topics outside its list; a record from before the list had any
    edu = legacy_education(
        vid, staff["officer"], datetime.now(UTC), signed=False, topics=["hazards", "<script>alert(1)</script>"]
    )
    session.add(edu)
    session.commit()
    officer, _ = as_user(app, "officer")
    page = officer.get(f"/panel/education/{edu.id}/card").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_underscore_escapes_the_text_and_its_parameters(app: Any) -> None:
    from flask import render_template_string

    with app.test_request_context("/"):
        out = render_template_string('{{ _(x) }}|{{ _("Card %(card)s", card=c) }}', x="<b>x</b>", c="<i>")
    assert out == "&lt;b&gt;x&lt;/b&gt;|Card &lt;i&gt;"
