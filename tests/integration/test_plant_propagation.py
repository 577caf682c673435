"""Propagation (issue 12): a badge reported lost (R3) reaches a controller through
PostgreSQL LISTEN/NOTIFY, long before its polling would, and through polling alone when
NOTIFY is off (all SQLite gets)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from controller.runtime import ControllerRuntime
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from tests.conftest import pg_admin, pg_url
from tests.integration.plant import People, plant_config_text
from zones.config import parse_config
from zones.db import make_engine, session_factory
from zones.services.items import report_badge_lost

VISITOR = "0A00105700"


@pytest.fixture
def pg_plant(pg_template: str) -> Iterator[str]:
    name = f"{pg_template}_{secrets.token_hex(3)}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield pg_url(name)
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _runtime(url: str, sim_url: str, tmp: Any, notify: bool) -> tuple[ControllerRuntime, Any, ModbusIoModule, Any]:
    text = plant_config_text(url, sim_url).replace('database = "', f'notify = {str(notify).lower()}\ndatabase = "', 1)
    config = parse_config(text, "test-plant.toml")
    engine = make_engine(url)
    People(engine, config).visitor(VISITOR)
    io = ModbusIoModule(sim_url, 1)
    pty = PtyReaderSim("em4100")
    runtime = ControllerRuntime(
        config,
        engine,
        {"smelting-east": SerialCardReader("smelting-east", "em4100", pty.port)},
        {"smelting-east": io},
        controller_id=f"notify-{notify}",
        journal_path=tmp / "journal.db",
        gate_ids=["smelting-east"],
    )
    return runtime, engine, io, pty


def _lost_reaches_gate(runtime: ControllerRuntime, engine: Any, wait_until: Callable[..., Any]) -> float:
    wait_until(lambda: VISITOR in runtime.site.snapshot.by_card, what="snapshot built")
    with session_factory(engine)() as s:
        report_badge_lost(s, VISITOR)
        s.commit()
    started = time.monotonic()
    wait_until(lambda: runtime.site.snapshot.by_card[VISITOR].badge == "lost", timeout=5, what="lost badge at the gate")
    return time.monotonic() - started


@pytest.mark.postgres
def test_lost_badge_reaches_the_controller_through_notify(
    pg_plant: str, tmp_path: Any, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)])
    runtime, engine, io, pty = _runtime(pg_plant, sim.url, tmp_path, notify=True)
    runtime.SYNC_INTERVAL_S = 30.0  # polling would take half a minute: only NOTIFY is this fast
    try:
        runtime.start()
        assert runtime.listener is not None
        wait_until(lambda: runtime.listener is not None and runtime.listener.connected, what="listening")
        assert _lost_reaches_gate(runtime, engine, wait_until) < 2.0
        assert runtime.listener.notifications >= 1
        assert runtime.metrics_view()["notify_up"] is True
    finally:
        runtime.stop()
        io.close()
        pty.close()
        engine.dispose()


@pytest.mark.postgres
def test_lost_badge_reaches_the_controller_by_polling_with_notify_off(
    pg_plant: str, tmp_path: Any, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)])
    runtime, engine, io, pty = _runtime(pg_plant, sim.url, tmp_path, notify=False)
    try:
        runtime.start()
        assert runtime.listener is None
        _lost_reaches_gate(runtime, engine, wait_until)
    finally:
        runtime.stop()
        io.close()
        pty.close()
        engine.dispose()
