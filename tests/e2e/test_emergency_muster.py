"""R16 in the browser: the officer's emergency button asks for confirmation, then shows the
muster list; an escort on a phone taps a person "here" and the officer's list, refreshed
live every 2 s, shows one missing fewer without a reload."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, shot, sign_in

pytestmark = pytest.mark.browser

VISITOR_PHONE = "13700001111"


def put_inside(site: Site) -> int:
    """A visitor and their escort pass the smelting entry gate: their passages are shipped to
    the central database the way a controller ships its journal (zones.central), which
    records them inside the zone. Returns the visitor's id."""
    from zones.central import ship_events
    from zones.db import make_engine, session_factory
    from zones.services import register_visitor

    engine = make_engine(site.database)
    try:
        with session_factory(engine)() as s:
            v = register_visitor(
                s,
                name="Sun Mei",
                id_type="passport",
                id_number="E12345678",
                organisation="Nordic Kilns",
                phone=VISITOR_PHONE,
            )
            now = datetime.now(UTC)
            escort = site.ids["escort"]
            ship_events(
                s,
                [
                    {
                        "key": f"test-pass-{pid}",
                        "at": now,
                        "kind": "passage",
                        "gate": "smelting-east",
                        "zone": "smelting",
                        "person_id": pid,
                        "escort_id": esc,
                        "allowed": True,
                        "passed": True,
                        "direction": "in",
                    }
                    for pid, esc in ((v.id, escort), (escort, None))
                ],
            )
            return v.id
    finally:
        engine.dispose()


def test_emergency_button_confirms_and_shows_the_muster_list(site: Site, desk: Any, phone: Any) -> None:
    visitor_id = put_inside(site)
    officer = desk.new_page()
    sign_in(officer, site, "officer")
    expect(officer.locator("[data-test=total-on-site]")).to_have_text("2")

    officer.click("[data-test=emergency-button]")
    expect(officer.locator("[data-test=confirm-emergency]")).to_be_visible()  # nothing happened yet
    expect(officer.locator(".emergency-banner")).to_have_count(0)
    shot(officer, "panel-emergency-confirm")
    officer.fill("input[name=reason]", "Fire drill")
    officer.click("[data-test=confirm-emergency]")

    expect(officer).to_have_url(site.url + "/panel/muster")
    expect(officer.locator(".emergency-banner")).to_be_visible()
    expect(officer.locator("[data-test=missing-count]")).to_have_text("2")
    expect(officer.locator("#muster")).to_contain_text("Sun Mei")
    expect(officer.locator("#muster")).to_contain_text(VISITOR_PHONE)  # R20: in clear for the officer
    shot(officer, "panel-muster")

    escort = phone.new_page()
    sign_in(escort, site, "escort")
    escort.click(".bottomnav a[href$='/m/muster']")
    expect(escort.locator("[data-test=missing-count]")).to_contain_text("2")
    # R16 over R20: the escort of record sees their visitor's phone in clear while the
    # emergency lasts (tests/e2e/test_emergency_attribution.py: masked otherwise)
    expect(escort.locator(f"#person-{visitor_id}")).to_contain_text(VISITOR_PHONE)
    shot(escort, "handheld-muster")
    escort.click(f"[data-test=mark-{visitor_id}]")  # one tap
    expect(escort.locator("[data-test=missing-count]")).to_contain_text("1")
    expect(escort.locator(f"#person-{visitor_id}")).to_have_class("person accounted")
    shot(escort, "handheld-muster-marked")

    # the officer's page was not reloaded: live refresh brings the new count
    expect(officer.locator("[data-test=missing-count]")).to_have_text("1", timeout=10_000)
    shot(officer, "panel-muster-live")

    # Another warden marks the escort at the assembly point: the phone's list, not reloaded,
    # follows by live refresh too.
    from zones.db import make_engine, session_factory
    from zones.services.site import mark_accounted

    engine = make_engine(site.database)
    try:
        with session_factory(engine)() as s:
            mark_accounted(s, site.ids["escort"])
    finally:
        engine.dispose()
    expect(escort.locator("[data-test=all-accounted]")).to_be_visible(timeout=10_000)
    expect(officer.locator("[data-test=missing-count]")).to_have_text("0", timeout=10_000)
