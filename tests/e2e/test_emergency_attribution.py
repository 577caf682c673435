"""R16 in the browser, as an evacuation is run: ending the emergency while people are still
missing asks "end anyway?" and needs a reason, refused by the server without one; the
journal names who declared and who ended it and why, in one row each with the gates that
followed folded in; the reason is in the banner and on the muster; each mark says who
made it; zero missing shows a green "all accounted for"; and a visitor's escort of record
sees the visitor's phone in clear only while the emergency lasts (R20 otherwise).

Screenshots (test-artifacts/screenshots): emergency-*, desktop and 390x844 phone, en and zh."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, shot, sign_in
from tests.e2e.test_emergency_muster import VISITOR_PHONE, put_inside

pytestmark = pytest.mark.browser

OTHER_PHONE = "13600002222"


@contextmanager
def _session(site: Site) -> Iterator[Any]:
    from zones.db import make_engine, session_factory

    engine = make_engine(site.database)
    try:
        with session_factory(engine)() as s:
            yield s
    finally:
        engine.dispose()


def put_inside_with_the_officer(site: Site) -> int:
    """A second visitor, who passed the smelting gate in the safety officer's charge: not
    the escort's visitor. Returns their id."""
    from datetime import UTC, datetime

    from zones.central import ship_events
    from zones.services import register_visitor

    with _session(site) as s:
        v = register_visitor(
            s, name="Qian Hao", id_type="passport", id_number="E87654321", organisation="Kiln Audit", phone=OTHER_PHONE
        )
        passage = {
            "key": f"test-pass-other-{v.id}",
            "at": datetime.now(UTC),
            "kind": "passage",
            "gate": "smelting-east",
            "zone": "smelting",
            "person_id": v.id,
            "escort_id": site.ids["officer"],
            "allowed": True,
            "passed": True,
            "direction": "in",
        }
        ship_events(s, [passage])
        return v.id


def set_emergency(site: Site, active: bool, reason: str) -> None:
    from zones.services.site import set_emergency as set_it

    with _session(site) as s:
        set_it(s, active, reason, site.ids["officer"])


def shots(browser: Any, site: Site, user: str, path: str, name: str) -> None:
    """The page at ``path`` as ``user`` sees it on a desktop and on a 390x844 phone, in
    English and in Chinese (the browser's language picks the page's)."""
    for device, size in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        for locale, lang in (("en-US", "en"), ("zh-CN", "zh")):
            ctx = browser.new_context(viewport=size, locale=locale, is_mobile=device == "phone")
            try:
                page = ctx.new_page()
                sign_in(page, site, user)
                page.goto(site.url + path)
                shot(page, f"{name}-{device}-{lang}")
            finally:
                ctx.close()


def reload_until(page: Any, locator: str, texts: list[str], timeout_s: float = 30.0) -> None:
    """The events page does not refresh itself: reload until every ``locator`` shows each
    of ``texts`` (the simulated gates' own emergency rows are shipped by their controller a
    few seconds after the panel's action)."""
    deadline = time.monotonic() + timeout_s
    while not all(t in row for row in page.locator(locator).all_inner_texts() for t in texts):
        assert time.monotonic() < deadline, f"{texts} not in every {locator} after {timeout_s} s"
        page.wait_for_timeout(500)
        page.reload()


def test_R16_ending_with_someone_missing_asks_for_a_reason_and_the_journal_names_who(
    site: Site, desk: Any, browser: Any
) -> None:
    visitor_id = put_inside(site)
    officer = desk.new_page()
    sign_in(officer, site, "officer")
    officer.goto(site.url + "/panel/emergency")
    officer.fill("input[name=reason]", "Gas alarm in smelting")
    officer.click("[data-test=confirm-emergency]")
    expect(officer).to_have_url(site.url + "/panel/muster")
    expect(officer.locator(".emergency-banner")).to_contain_text("Reason: Gas alarm in smelting")
    expect(officer.locator("[data-test=muster-reason]")).to_have_text("Reason: Gas alarm in smelting")
    expect(officer.locator("[data-test=missing-count]")).to_have_text("2")
    expect(officer.locator("[data-test=all-accounted]")).to_have_count(0)

    # the officer marks the escort at the assembly point: the row says by whom and when
    escort_id = site.ids["escort"]
    officer.click(f"form[action$='/muster/{escort_id}/accounted'] button")
    expect(officer.locator(f"[data-test=marked-{escort_id}]")).to_have_text(
        re.compile(r"^marked by Wang Fang \d\d:\d\d$")
    )
    expect(officer.locator("[data-test=missing-count]")).to_have_text("1")

    officer.goto(site.url + "/panel/emergency")
    expect(officer.locator("[data-test=end-missing]")).to_have_text("1 person still missing: end anyway?")
    reason = officer.locator("form[data-test=end-emergency] input[name=reason]")
    expect(reason).to_have_attribute("required", "")  # the browser asks first ...
    shots(browser, site, "officer", "/panel/emergency", "emergency-end-confirm")
    reason.evaluate("el => el.removeAttribute('required')")  # ... and the server refuses too
    officer.click("[data-test=end-emergency-button]")
    expect(officer.locator("[data-test=reason-error]")).to_be_visible()
    expect(officer.locator("form[data-test=end-emergency] input[name=reason]")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(officer.locator(".emergency-banner")).to_be_visible()  # nothing ended
    shot(officer, "emergency-end-refused-desktop-en")

    officer.fill("form[data-test=end-emergency] input[name=reason]", "Fire brigade gave the all clear")
    officer.click("[data-test=end-emergency-button]")
    expect(officer.locator(".flash")).to_contain_text("Emergency ended.")
    expect(officer.locator(".emergency-banner")).to_have_count(0)

    # the journal: one row per action, naming who and why; the gates' rows folded in
    officer.goto(site.url + "/panel/events")
    actions = officer.locator("[data-test=emergency-action]")
    expect(actions).to_have_count(2)
    expect(actions.nth(0)).to_contain_text("Emergency ended by Wang Fang: Fire brigade gave the all clear")
    expect(actions.nth(0)).to_contain_text("1 person was still missing")
    expect(actions.nth(1)).to_contain_text("Emergency declared by Wang Fang: Gas alarm in smelting")
    gates = ["assembly-in", "assembly-out", "smelting-east", "smelting-exit"]  # the demo plant's
    reload_until(officer, "[data-test=emergency-action]", ["Gates that followed:", *gates])
    expect(actions).to_have_count(2)
    per_gate = officer.locator("tbody tr:not([data-test]) td:nth-child(3)", has_text="Emergency")
    expect(per_gate).to_have_count(0)  # no anonymous row per gate
    expect(officer.locator("[data-test=emergency-gates]")).to_have_count(0)  # all of them followed an action
    shots(browser, site, "officer", "/panel/events", "emergency-journal")
    assert visitor_id  # Sun Mei was the one still missing


def test_R16_R20_the_escort_sees_their_visitors_phone_only_during_the_emergency(
    site: Site, phone: Any, browser: Any
) -> None:
    mine = put_inside(site)  # Sun Mei, in the escort's charge
    theirs = put_inside_with_the_officer(site)  # Qian Hao, in the safety officer's charge
    escort = phone.new_page()
    sign_in(escort, site, "escort")
    escort.goto(site.url + "/m/muster")
    expect(escort.locator(f"[data-test=phone-{mine}]")).to_have_text("137****1111")  # R20: no emergency
    expect(escort.locator(f"[data-test=phone-{theirs}]")).to_have_text("136****2222")

    set_emergency(site, True, "Fire in the smelting hall")
    # the list refreshes itself every 2 s: the escort of record now sees the number to call
    expect(escort.locator(f"[data-test=phone-{mine}]")).to_have_text(VISITOR_PHONE, timeout=10_000)
    expect(escort.locator(f"[data-test=phone-{mine}] a")).to_have_attribute("href", f"tel:{VISITOR_PHONE}")
    expect(escort.locator(f"[data-test=phone-{theirs}]")).to_have_text("136****2222")  # not theirs
    expect(escort.locator("[data-test=muster-reason]")).to_contain_text("Fire in the smelting hall")
    shots(browser, site, "escort", "/m/muster", "emergency-handheld-phones")

    # the escort taps "here" for Sun Mei: the row says who marked her and when
    escort.click(f"[data-test=mark-{mine}]")
    expect(escort.locator(f"[data-test=marked-{mine}]")).to_have_text(re.compile(r"^由 Zhao Lei 于 \d\d:\d\d 确认$"))

    set_emergency(site, False, "All clear")
    expect(escort.locator(f"[data-test=phone-{mine}]")).to_have_text("137****1111", timeout=10_000)  # masked again


def test_R16_zero_missing_shows_all_accounted_for_in_green(site: Site, desk: Any, phone: Any, browser: Any) -> None:
    from zones.services.site import mark_accounted

    visitor_id = put_inside(site)
    set_emergency(site, True, "Drill")
    escort = phone.new_page()
    sign_in(escort, site, "escort")
    escort.goto(site.url + "/m/muster")
    expect(escort.locator("[data-test=missing-count]")).to_contain_text("2")
    escort.click(f"[data-test=mark-{visitor_id}]")
    officer = desk.new_page()
    sign_in(officer, site, "officer")
    officer.goto(site.url + "/panel/muster")
    expect(officer.locator(f"[data-test=marked-{visitor_id}]")).to_have_text(
        re.compile(r"^marked by Zhao Lei \d\d:\d\d$")
    )
    with _session(site) as s:  # a warden marks the escort
        mark_accounted(s, site.ids["escort"], by=site.ids["officer"])
    green = escort.locator("[data-test=all-accounted]")
    expect(green).to_have_text("全部已清点", timeout=10_000)  # the phone's page is in Chinese
    expect(green).to_have_css("color", "rgb(23, 128, 61)")  # --ok
    expect(officer.locator("[data-test=all-accounted]")).to_have_text("All accounted for", timeout=10_000)
    expect(officer.locator("[data-test=missing-count]")).to_have_text("0")
    shots(browser, site, "escort", "/m/muster", "emergency-all-accounted-handheld")
    shots(browser, site, "officer", "/panel/muster", "emergency-all-accounted-muster")
