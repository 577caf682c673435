"""The officer's dashboard is live (issue 13): within 3 s of a passage at a simulated gate,
without a reload, the zone's list names who went in and drops who came out; the gate card
says the gate waits for the escort after a visitor's card (R10) and "confirmed" after the
escort's; after an emergency ends (R16) no gate still says "Emergency" at the next refresh.
Desktop and phone, English and Chinese screenshots."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import STAFF, Site, shot, sign_in
from tests.e2e.test_pages_flow import pass_the_gate

pytestmark = pytest.mark.browser

VISITOR = "Qian Hua"
BADGE = "0A00D0D0D0"  # ten hex digits: the smelting gates read em4100 cards
LIVE_S = 3.0  # the issue's bound: a passage shows on the dashboard within 3 s, no reload


def ready_visitor(site: Site) -> int:
    """A visitor ready for the smelting workshop (R1-R12) with the test escort as escort of
    record, prepared through the domain services as reception and the safety office would;
    the form allows hours outside the zone's (R14) so the test passes at any hour."""
    from tests.education import educate
    from zones.config import load_config
    from zones.db import make_engine, session_factory
    from zones.services.forms import approve_contact_form, create_contact_form
    from zones.services.items import issue_badge, issue_helmet
    from zones.services.people import register_visitor
    from zones.services.visits import book_visit, check_in

    zones = load_config(site.config_path).zone_map()
    engine = make_engine(site.database)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as s:
            number = "110101199005010012"
            v = register_visitor(
                s, name=VISITOR, id_type="resident_id", id_number=number, organisation="Acme", phone="13800138001"
            )
            visit = book_visit(s, visitor_id=v.id, host_id=site.ids["escort"], purpose="audit")
            check_in(s, visit.id, number)
            issue_badge(s, visit.id, BADGE)
            form = create_contact_form(
                s,
                visitor_id=v.id,
                zones=["smelting"],
                escort_id=site.ids["escort"],
                purpose="audit",
                valid_from=now - timedelta(hours=1),
                valid_until=now + timedelta(hours=8),
                outside_hours=True,
                known_zones=zones,
            )
            approve_contact_form(s, form.id, site.ids["officer"], zones)
            educate(s, visitor_id=v.id, educator_id=site.ids["officer"], delivered_at=now, known_zones=zones)
            issue_helmet(s, v.id, "H-9")
            s.commit()
            return v.id
    finally:
        engine.dispose()


def within(deadline_s: float, what: str, check: Any, since: float | None = None) -> float:
    """Wait for ``check()`` (a page query, no reload) to be true; fail when ``deadline_s``
    have passed since ``since`` (monotonic time; default now). Returns the seconds it took."""
    started = time.monotonic() if since is None else since
    while not check():
        if time.monotonic() - started > deadline_s:
            pytest.fail(f"{what} not within {deadline_s} s")
        time.sleep(0.05)
    return time.monotonic() - started


def passes(site: Site, gate: str) -> int:
    """Passages through the simulated turnstile of ``gate`` so far (the sim's own count)."""
    from hardware.sim_control import request
    from sitegate.hardware_wiring import sim_socket_path
    from zones.config import load_config

    reply = request(sim_socket_path(load_config(site.config_path)), {"op": "status"})
    return int(reply["gates"][gate]["passes"])


def passage(site: Site, gate: str, count: int) -> float:
    """Wait until ``gate``'s turnstile has counted ``count`` passages (the simulated person
    walks through a moment after the release); returns the monotonic time it saw it."""
    within(15.0, f"passage {count} at {gate}", lambda: passes(site, gate) >= count)
    return time.monotonic()


def inside_names(page: Any) -> list[str]:
    """The names in the smelting zone's list (its text, also while the list is closed)."""
    return page.locator("[data-zone=smelting] [data-test=inside-name]").all_text_contents()


def test_dashboard_names_who_goes_in_and_out_without_a_reload(site: Site, desk: Any, phone: Any) -> None:
    ready_visitor(site)
    officer = desk.new_page()
    sign_in(officer, site, "officer")
    loaded = officer.evaluate("performance.timeOrigin")  # the same document throughout: no reload
    zone = officer.locator("[data-zone=smelting]")
    expect(zone.locator("[data-test=zone-count]")).to_contain_text("0")
    gate = officer.locator("[data-gate=smelting-east]")
    expect(gate.locator("[data-test=gate-state]")).to_have_text("Ready")

    # R10: the visitor's card alone: the gate waits for the escort, and the gate card says so
    pass_the_gate(site, "smelting-east", BADGE)
    within(LIVE_S, "the gate card's wait for the escort", lambda: "waiting for the escort" in gate.inner_text())
    expect(gate.locator("[data-test=gate-activity]")).to_contain_text(VISITOR)
    shot(officer, "panel-dashboard-waiting-escort")

    # the escort's card confirms: both pass, the card says "confirmed", the zone names them,
    # each within 3 s of their passage through the turnstile
    before = passes(site, "smelting-east")
    pass_the_gate(site, "smelting-east", STAFF["escort"].card)
    within(LIVE_S, "the escort's confirmation", lambda: "confirmed" in gate.inner_text())
    expect(gate.locator("[data-test=gate-activity]")).to_contain_text(f"{STAFF['escort'].name} with {VISITOR}")
    walked = passage(site, "smelting-east", before + 1)
    took_in = within(LIVE_S, f"{VISITOR} in the list", lambda: VISITOR in inside_names(officer), since=walked)
    walked = passage(site, "smelting-east", before + 2)
    within(LIVE_S, "the escort in the list", lambda: STAFF["escort"].name in inside_names(officer), since=walked)
    expect(gate.locator("[data-test=gate-activity]")).not_to_contain_text("waiting for the escort")
    zone.locator("summary").click()  # the zone opens its list, and it stays open across refreshes
    visitor_row = zone.locator("li", has_text=VISITOR)
    expect(visitor_row).to_contain_text("Visitor")
    expect(visitor_row).to_contain_text(f"Escort: {STAFF['escort'].name}")
    expect(visitor_row).to_contain_text("since")
    expect(visitor_row).to_contain_text("form valid until")
    escort_row = zone.locator(f"li:has([data-test=inside-name]:text-is('{STAFF['escort'].name}'))")
    expect(escort_row).to_contain_text("Employee")
    # R20: names only, no phone or identity number on the dashboard
    assert "13800138001" not in officer.content() and "110101199005010012" not in officer.content()
    stamp = officer.locator("[data-test=dashboard-stamp]").inner_text()
    within(LIVE_S, "the next refresh", lambda: officer.locator("[data-test=dashboard-stamp]").inner_text() != stamp)
    expect(zone.locator("details.inside")).to_have_attribute("open", "")
    shot(officer, "panel-dashboard-inside")

    # the visitor walks out: gone from the list within 3 s, still no reload
    before = passes(site, "smelting-exit")
    pass_the_gate(site, "smelting-exit", BADGE)
    walked = passage(site, "smelting-exit", before + 1)
    took_out = within(LIVE_S, f"{VISITOR} leaving the list", lambda: VISITOR not in inside_names(officer), since=walked)
    assert STAFF["escort"].name in inside_names(officer)
    assert officer.evaluate("performance.timeOrigin") == loaded, "the page was reloaded"
    print(f"passage to dashboard: entry {took_in:.2f} s, exit {took_out:.2f} s")

    # the same dashboard in Chinese, and on a phone
    officer.click(".lang-switch button[lang=zh]")
    expect(officer.locator("h1")).to_have_text("总览")
    officer.locator("[data-zone=smelting] summary").click()
    expect(officer.locator("[data-zone=smelting] li")).to_contain_text(["员工"])
    shot(officer, "panel-dashboard-inside-zh")
    small = phone.new_page()
    sign_in(small, site, "officer")
    small.locator("[data-zone=smelting] summary").click()
    expect(small.locator("[data-zone=smelting] li")).to_contain_text([STAFF["escort"].name])
    shot(small, "panel-dashboard-phone-zh")
    small.click(".lang-switch button[lang=en]")
    small.locator("[data-zone=smelting] summary").click()
    expect(small.locator("[data-gate=smelting-east] [data-test=gate-state]")).to_have_text("Ready")
    shot(small, "panel-dashboard-phone")


def test_gate_states_follow_the_end_of_an_emergency(site: Site, desk: Any) -> None:
    officer = desk.new_page()
    sign_in(officer, site, "officer")
    states = officer.locator("[data-gate] [data-test=gate-state]")
    expect(states).to_have_count(4)
    officer.click("[data-test=emergency-button]")
    officer.fill("input[name=reason]", "Fire drill")
    officer.click("[data-test=confirm-emergency]")
    expect(officer).to_have_url(site.url + "/panel/muster")

    officer.goto(site.url + "/panel/")
    expect(states).to_have_text(["Emergency"] * 4)  # the controllers hold exits open, entries locked
    shot(officer, "panel-dashboard-emergency")

    # end it on the emergency page (a reason and a confirmation, where the page asks them)
    officer.goto(site.url + "/panel/emergency")
    end = officer.locator("form", has=officer.locator("input[name=active][value='0']"))
    for field in end.locator("input[name=reason], textarea[name=reason]").all():
        field.fill("Drill over")
    officer.on("dialog", lambda dialog: dialog.accept())
    end.locator("button[type=submit]").first.click()
    officer.wait_for_url(lambda url: "/panel/emergency" not in url)
    officer.goto(site.url + "/panel/")  # the dashboard at once: its first copy may be a moment old
    expect(officer.locator(".emergency-banner")).to_have_count(0)
    loaded = officer.evaluate("performance.timeOrigin")
    # at the next refresh (2 s) no gate says "Emergency" any more: the controllers publish
    # their gates' state as soon as it changes, not at a later heartbeat
    stamp = officer.locator("[data-test=dashboard-stamp]").inner_text()
    within(LIVE_S, "a refresh", lambda: officer.locator("[data-test=dashboard-stamp]").inner_text() != stamp)
    assert "Emergency" not in states.all_inner_texts(), states.all_inner_texts()
    expect(states).to_have_text(["Ready"] * 4)
    assert officer.evaluate("performance.timeOrigin") == loaded, "the page was reloaded"
    officer.click(".lang-switch button[lang=zh]")
    expect(officer.locator("[data-gate] [data-test=gate-state]").first).not_to_have_text("紧急")
    shot(officer, "panel-dashboard-after-emergency-zh")
