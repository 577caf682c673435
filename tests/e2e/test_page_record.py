"""The record of issue 13: every page of the panel and the handheld as plant staff see them.

Each role of ``STAFF`` (safety officer, reception desk, escort) signs in on a demo plant with
a visitor on site, an education card, a pending contact form, a denied passage, a breach, an
incident and a complaint, and visits every page its menu offers plus the pages reached from
them (a visitor, a form, the education card, the handheld lookup, the emergency and muster
pages, a page its role may not open: the 403) and the sign-in page; on a desktop
(1280x900) and a phone (390x844), in English and in Chinese. Each page is saved as a
screenshot (``shot``) with its HTML next to it (test-artifacts/screenshots/record-*), and
every Chinese page is checked: no English id (a zone or department id, a reason's code, a
role or a stored value such as "pending" or "smelting") inside a Chinese sentence.

The browser's locale stays en-US throughout, so the Chinese pages are Chinese because of the
header's language switch alone, and a date field that followed the browser would show
mm/dd/yyyy (the Chinese pages must not).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import SCREENSHOTS, STAFF, Site, shot, sign_in
from zones.config import load_config
from zones.messages import MESSAGES

ID_NUMBER = "440524198805150011"  # GB 11643-valid, born 1988-05-15 (R2, R11)
BADGE = "0A0000BEEF"
VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# pages beyond the menus; {visitor}, {education}, {card} are filled in from the seeded data
EXTRA: dict[str, list[str]] = {
    "officer": [
        "/panel/visitors/{visitor}",
        "/panel/education/{education}/card",
        "/panel/visitors/new",
        "/panel/forms/new",
        "/panel/emergency",
        "/panel/muster",
        "/m/lookup?card={card}",
        "/panel/users",  # the administrator's: a 403 for the officer
    ],
    "desk": ["/panel/visitors/{visitor}", "/panel/visitors/new", "/panel/visits/new", "/panel/stats"],
    "escort": ["/m/lookup?card={card}", "/panel/visitors/{visitor}", "/panel/stats"],
}
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def english_ids() -> set[str]:
    """What must never appear inside a Chinese sentence: the site's zone and department ids,
    reason codes (said without their rule), roles and the stored values pages translate."""
    from web.i18n import ENUM_LABELS
    from zones.services import known_departments

    config = load_config(Path(__file__).resolve().parents[2] / "config.toml")
    generic = {"in", "out", "read", "other", "ready", "written", "video"}  # also plain English words
    return (
        {z.id for z in config.zones}
        | set(known_departments(config))
        | {u.department for u in STAFF.values() if u.department}
        | set(MESSAGES)
        | {"safety_officer", "reception", "escort", "guard", "admin"}
        | (set(ENUM_LABELS) - generic)
    )


class _Text(HTMLParser):
    """The text nodes of a page outside <script>, <style> and <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "svg"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def english_ids_in_chinese(html: str, ids: set[str]) -> list[str]:
    """The Chinese sentences (text nodes with Chinese in them) that contain one of ``ids``."""
    parser = _Text()
    parser.feed(html)
    found = []
    for node in parser.nodes:
        if not CJK.search(node):
            continue
        for word in re.findall(r"(?<![A-Za-z0-9_.@/-])[a-z][a-z0-9_-]*(?![A-Za-z0-9_@/-])", node):
            if word in ids:
                found.append(f"{word!r} in {node!r}")
    return found


def seed(site: Site) -> dict[str, Any]:
    """A visitor on site with a badge, an education card, a pending contact form, a denied
    passage at the smelting gate (named reasons), a breach, an incident and a complaint."""
    from tests.education import educate
    from zones.central import ship_events
    from zones.db import make_engine, session_factory
    from zones.messages import reason
    from zones.services import book_visit, check_in, issue_badge, register_visitor
    from zones.services.breaches import record_breach
    from zones.services.forms import create_contact_form
    from zones.services.reception_complaints import register_complaint
    from zones.services.reception_incidents import PersonIn, record_incident

    config = load_config(site.config_path)
    engine = make_engine(site.database)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as s:
            v = register_visitor(
                s, name="Chen Jing", id_type="resident_id", id_number=ID_NUMBER, organisation="Huanan Instruments"
            )
            visit = book_visit(s, visitor_id=v.id, host_id=site.ids["escort"], purpose="calibration")
            check_in(s, visit.id, ID_NUMBER)
            issue_badge(s, visit.id, BADGE)
            edu = educate(s, visitor_id=v.id, educator_id=site.ids["officer"], delivered_at=now - timedelta(hours=1))
            create_contact_form(
                s,
                visitor_id=v.id,
                zones=["smelting"],
                purpose="calibration",
                valid_from=now - timedelta(hours=1),
                valid_until=now + timedelta(hours=8),
                escort_ids=[site.ids["escort"]],
                created_by=site.ids["officer"],
                known_zones=config.zone_map(),
            )
            denied = [
                reason("no-form", zone="Smelting workshop", zone_id="smelting", department="steelmaking"),
                reason("no-education", department="steelmaking"),
                reason("no-helmet", zone="Smelting workshop", zone_id="smelting"),
            ]
            ship_events(
                s,
                [
                    {
                        "key": "record-1",
                        "at": now - timedelta(minutes=5),
                        "kind": "decision",
                        "gate": "smelting-east",
                        "zone": "smelting",
                        "card": BADGE,
                        "person_id": v.id,
                        "allowed": False,
                        "reasons": [
                            {"rule": r.rule, "code": r.code, "message": r.message, "params": dict(r.params)}
                            for r in denied
                        ],
                    }
                ],
            )
            record_breach(
                s,
                person_id=v.id,
                rule="R13",
                prohibition=2,
                severity="warning",
                seen_by=site.ids["officer"],
                note="phone",
            )
            record_incident(
                s,
                category="C",
                people=[PersonIn("Gao Yuan", "City inspection office")],
                summary="unannounced inspection",
                arrived_at=now - timedelta(hours=2),
                recorded_by=site.ids["desk"],
                settings=config.reception,
                timezone=config.site.timezone,
            )
            register_complaint(
                s,
                name="Ma Li",
                contact="13800138000",
                channel="phone",
                subject="noise at night",
                department="administration",
                text="trucks at 23:00",
                registered_by=site.ids["desk"],
                settings=config.reception,
                timezone=config.site.timezone,
            )
            s.commit()
            return {"visitor": v.id, "education": edu.id, "card": BADGE}
    finally:
        engine.dispose()


def save(page: Any, name: str) -> None:
    """The page's screenshot (shot) and its HTML next to it."""
    path = shot(page, name)
    path.with_suffix(".html").write_text(page.content(), encoding="utf-8")


def choose_language(page: Any, lang: str) -> None:
    """Press the header's switch (session and user language); the page reloads in ``lang``."""
    page.click(f"form.lang-switch button[value={lang}]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh" else "en")


def menu(page: Any) -> list[str]:
    """The paths the page's menu (the panel's side menu or the handheld's bar) links to."""
    hrefs = page.eval_on_selector_all("nav.sidenav a, nav.bottomnav a", "els => els.map(e => e.getAttribute('href'))")
    return list(dict.fromkeys(h for h in hrefs if h))


def tour(browser: Any, site: Site, role: str, data: dict[str, Any], viewport: str, lang: str) -> list[Path]:
    ctx = browser.new_context(locale="en-US", **VIEWPORTS[viewport])
    ctx.set_default_timeout(15_000)
    saved = []
    try:
        page = ctx.new_page()
        page.goto(site.url + "/login")
        if lang == "zh":
            choose_language(page, "zh")
        prefix = f"record-{role}-{lang}-{viewport}"
        save(page, f"{prefix}-login")
        saved.append(SCREENSHOTS / f"{prefix}-login.html")
        sign_in(page, site, role)
        if page.get_attribute("html", "lang") != ("zh-CN" if lang == "zh" else "en"):
            choose_language(page, lang)  # the user's saved language may differ from this session's
        paths = menu(page) + [p.format(**data) for p in EXTRA[role]]
        for path in dict.fromkeys(paths):
            page.goto(site.url + path)
            page.wait_for_load_state()
            parts = urlsplit(path)
            slug = re.sub(r"[^a-z0-9]+", "-", f"{parts.path} {parts.query.split('=')[0]}".lower()).strip("-") or "home"
            name = f"{prefix}-{slug}"
            save(page, name)
            saved.append(SCREENSHOTS / f"{name}.html")
    finally:
        ctx.close()
    return saved


@pytest.fixture
def seeded(site: Site) -> Iterator[tuple[Site, dict[str, Any]]]:
    yield site, seed(site)


@pytest.mark.parametrize("role", ["officer", "desk", "escort"])
def test_every_page_of_the_role_on_desktop_and_phone_in_english_and_chinese(
    browser: Any, seeded: tuple[Site, dict[str, Any]], role: str
) -> None:
    site, data = seeded
    saved = {
        (viewport, lang): tour(browser, site, role, data, viewport, lang)
        for viewport in VIEWPORTS
        for lang in ("en", "zh")
    }
    assert len(saved["desktop", "en"]) >= 6, saved  # the menu, the extras and the sign-in page
    ids = english_ids()
    problems = [
        f"{path.name}: {p}"
        for (_viewport, lang), paths in saved.items()
        if lang == "zh"
        for path in paths
        for p in english_ids_in_chinese(path.read_text(encoding="utf-8"), ids)
    ]
    assert not problems, "English ids inside Chinese sentences:\n" + "\n".join(problems)
    # a Chinese page takes its dates year first, whatever the browser's locale (en-US here)
    for path in saved["desktop", "zh"]:
        html = path.read_text(encoding="utf-8")
        assert not re.search(r'<input[^>]*type="(date|month|datetime-local)"', html), (
            f"{path.name}: a browser date field"
        )


def test_the_check_finds_an_english_id_inside_a_chinese_sentence() -> None:
    ids = english_ids()
    assert english_ids_in_chinese("<p>没有assembly的安全教育记录</p>", ids) == [
        "'assembly' in '没有assembly的安全教育记录'"
    ]
    assert english_ids_in_chinese("<p>联系单状态为 pending，不是待批准</p>", ids)
    assert english_ids_in_chinese("<p>陪同人：Zhao Lei · steelmaking</p>", ids)
    # names, card numbers, rule ids and text outside sentences are not ids
    assert not english_ids_in_chinese(
        '<p>访客 Chen Jing：卡 0A0000BEEF（R3）</p><td>smelting</td><input value="smelting"><script>x="没有assembly"</script>',
        ids,
    )
