"""The gate health a controller publishes for the panel's dashboard follows the gate at
once, not at the next heartbeat: an emergency's start and end (R16), a visitor waiting
for the escort and the escort's confirmation (R10). The heartbeat is set to a minute here,
so only a report sent because something changed can pass these tests. Real pty readers, a
real pymodbus turnstile and fire-alarm input, a real migrated database (tests.integration.
test_gate_e2e's plant)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tests.integration.plant import ESCORT_CARD
from tests.integration.test_gate_e2e import VISITOR, Plant, plant  # noqa: F401  (the plant fixture)

ALARM_INPUT = 10  # plant_config's [alarm] input
PUBLISHED_WITHIN_S = 1.0  # a sync or two (0.2 s each), far below the one-minute heartbeat


def reported(p: Plant, gate: str = "smelting-east") -> Any:
    from sqlalchemy import select

    from zones.db import session_factory
    from zones.schema import GateHealth

    with session_factory(p.engine)() as s:
        return s.scalars(select(GateHealth).where(GateHealth.gate_id == gate)).one_or_none()


def quiet_heartbeat(p: Plant) -> None:
    """Once the heartbeat already due has been sent, the next one is a minute away."""
    p.wait_until(lambda: reported(p, "smelting-east") and reported(p, "smelting-exit"), what="first reports")
    p.runtime.HEALTH_INTERVAL_S = 60.0
    now = datetime.now(UTC)
    p.wait_until(lambda: reported(p).updated_at > now, timeout=3, what="the last 1 s heartbeat")


def test_R16_gate_health_follows_the_alarm_and_its_end_at_once(plant: Plant) -> None:  # noqa: F811
    quiet_heartbeat(plant)
    plant.turnstile.set_input(ALARM_INPUT, True)
    for gate in ("smelting-east", "smelting-exit"):
        plant.wait_until(
            lambda g=gate: reported(plant, g).state == "emergency", timeout=3, what=f"{gate} reported in emergency"
        )
    assert reported(plant).detail["emergency"] is True
    plant.turnstile.set_input(ALARM_INPUT, False)
    cleared = time.monotonic()
    for gate in ("smelting-east", "smelting-exit"):
        plant.wait_until(
            lambda g=gate: reported(plant, g).state == "ready",
            timeout=PUBLISHED_WITHIN_S + 0.2,  # + the alarm input's polling (0.1 s)
            what=f"{gate} reported ready after the alarm's end",
        )
    print(f"alarm's end to both gates reported ready: {time.monotonic() - cleared:.2f} s")
    assert reported(plant).detail["emergency"] is False


def test_R10_gate_health_shows_the_visitor_waiting_then_the_escort_confirming(plant: Plant) -> None:  # noqa: F811
    vid = plant.people.visitor(VISITOR)
    plant.refresh()
    quiet_heartbeat(plant)
    plant.entry.present(VISITOR)
    health = plant.wait_until(
        lambda: (h := reported(plant)) and h.detail.get("waiting") and h, timeout=3, what="the wait reported"
    )
    assert health.detail["waiting_for_escort"] == 1
    [waiting] = health.detail["waiting"]
    assert waiting["person_id"] == vid
    left = (datetime.fromisoformat(waiting["until"]) - datetime.now(UTC)).total_seconds()
    assert 0 < left <= plant.runtime.site.policy.escort_window_s

    plant.entry.present(ESCORT_CARD)
    health = plant.wait_until(
        lambda: (h := reported(plant)) and h.detail.get("confirmed") and h, timeout=3, what="the confirmation reported"
    )
    confirmed = health.detail["confirmed"]
    assert confirmed["escort_id"] == plant.people.seed.escort_id and confirmed["visitors"] == [vid]
    assert health.detail["waiting"] == [] and health.detail["waiting_for_escort"] == 0
    assert abs((datetime.now(UTC) - datetime.fromisoformat(confirmed["at"])).total_seconds()) < 3
