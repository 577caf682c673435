"""R10 in the browser: an escort walks out of the smelting zone leaving a visitor inside;
the officer's dashboard lists the open alert, and another escort's handheld shows it and
takes the visitor over with one tap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site, shot, sign_in

pytestmark = pytest.mark.browser


def leave_unescorted(site: Site) -> tuple[int, int]:
    """A visitor enters smelting with escort Ma Jun, who then walks out: the gate's passages
    and its custody event are shipped the way a controller ships its journal
    (zones.central). Returns (visitor id, escort id)."""
    from zones.central import ship_events
    from zones.db import make_engine, session_factory
    from zones.services import create_user, register_visitor

    engine = make_engine(site.database)
    try:
        with session_factory(engine)() as s:
            left, _ = create_user(s, "Ma Jun", "escort", "steelmaking", ["smelting"], "0E00000009")
            v = register_visitor(
                s, name="Sun Mei", id_type="passport", id_number="E12345678", organisation="Nordic Kilns"
            )
            now = datetime.now(UTC)
            base = {"zone": "smelting", "allowed": True, "passed": True}
            ship_events(
                s,
                [
                    {**base, "key": "t-v-in", "at": now, "kind": "passage", "gate": "smelting-east",
                     "person_id": v.id, "escort_id": left.id, "direction": "in"},
                    {**base, "key": "t-e-in", "at": now, "kind": "passage", "gate": "smelting-east",
                     "person_id": left.id, "direction": "in"},
                    {**base, "key": "t-e-out", "at": now + timedelta(seconds=5), "kind": "passage",
                     "gate": "smelting-exit", "person_id": left.id, "direction": "out"},
                    {"key": "t-e-left", "at": now + timedelta(seconds=5), "kind": "alert", "zone": "smelting",
                     "gate": "smelting-exit", "person_id": left.id, "escort_id": left.id, "direction": "out",
                     "detail": {"alert": "unescorted", "visitors": [v.id], "department": "steelmaking"}},
                ],
            )  # fmt: skip
            return v.id, left.id
    finally:
        engine.dispose()


def charge_of(site: Site, visitor_id: int) -> int | None:
    from zones.db import make_engine, session_factory
    from zones.schema import Presence

    engine = make_engine(site.database)
    try:
        with session_factory(engine)() as s:
            row = s.get(Presence, visitor_id)
            return row.escort_id if row else None
    finally:
        engine.dispose()


def test_escort_takes_an_unescorted_visitor_over_on_the_handheld(site: Site, desk: Any, phone: Any) -> None:
    visitor_id, left_id = leave_unescorted(site)
    assert charge_of(site, visitor_id) == left_id

    officer = desk.new_page()
    sign_in(officer, site, "officer")
    alerts = officer.locator("[data-test=open-alerts]")
    expect(alerts).to_contain_text("Unescorted visitor")
    expect(alerts).to_contain_text("Sun Mei")
    expect(alerts).to_contain_text("Ma Jun")
    shot(officer, "panel-dashboard-unescorted")

    escort = phone.new_page()
    sign_in(escort, site, "escort")
    escort.click(".bottomnav a[href$='/m/alerts']")
    card = escort.locator("[data-test=alert]")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Sun Mei")
    expect(card).to_contain_text("Ma Jun")
    shot(escort, "handheld-unescorted-alert")
    escort.locator("[data-test^=take-over-]").click()  # one tap: the signed-in escort takes over
    expect(escort.locator("[data-test=no-alerts]")).to_be_visible()
    expect(escort.locator(".flash, .flashes").first).to_contain_text("Zhao Lei")
    shot(escort, "handheld-unescorted-taken-over")
    assert charge_of(site, visitor_id) == site.ids["escort"]

    officer.reload()
    expect(officer.locator("[data-test=open-alerts]")).to_have_count(0)
