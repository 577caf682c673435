"""The controller when things go away: the central database (a real PostgreSQL behind a
proxy we cut), and the controller process itself (SIGKILL). Nothing journalled is lost and
nothing reaches the central table twice (design.md "Nothing is lost", R18)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controller.runtime import ControllerRuntime
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from tests.conftest import pg_admin, pg_url
from tests.integration.plant import (
    ESCORT_CARD,
    People,
    central_events,
    journal_rows,
    migrated_sqlite,
    plant_config,
    plant_config_text,
)
from tests.integration.tcpproxy import TcpProxy
from zones.db import make_engine

VISITOR = "0A00C0FFEE"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_database_outage_decisions_continue_and_every_event_ships_once(
    pg_template: str, tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    name = f"{pg_template}_{secrets.token_hex(3)}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    direct = make_engine(pg_url(name))
    via_proxy = make_engine(pg_url(name).replace(":5432/", f":{proxy.port}/"))
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.1)
    config = plant_config(pg_url(name), sim.url)
    people = People(direct, config)
    people.visitor(VISITOR)
    pty = PtyReaderSim("em4100")
    reader = SerialCardReader("smelting-east", "em4100", pty.port)
    io = ModbusIoModule(sim.url, 1)
    journal = tmp_path / "journal.db"
    runtime = ControllerRuntime(
        config,
        via_proxy,
        {"smelting-east": reader},
        {"smelting-east": io},
        controller_id="outage",
        journal_path=journal,
        gate_ids=["smelting-east"],
    )
    try:
        runtime.start()
        wait_until(lambda: runtime.db_ok and VISITOR in runtime.site.snapshot.by_card, what="snapshot built")
        proxy.stop()  # the database goes away
        wait_until(lambda: not runtime.db_ok, what="controller notices the outage")
        pty.present(VISITOR)
        pty.present(ESCORT_CARD)
        pty.present("0DEADBEEF0")

        def decided() -> list[dict[str, Any]]:
            return [e for e in journal_rows(journal) if e["kind"] == "decision"]

        wait_until(
            lambda: len(decided()) == 3 and any(e["kind"] == "passage" for e in journal_rows(journal)),
            what="decisions while the database is down",
        )
        by_card = {e["card"]: e for e in decided()}
        assert by_card[VISITOR]["allowed"] is True  # decided from the snapshot
        assert by_card[ESCORT_CARD]["allowed"] is True  # the escort passes with the visitor (R10)
        assert [r["rule"] for r in by_card["0DEADBEEF0"]["reasons"]] == ["R3"]
        assert runtime.health()["snapshot_age_s"] > 0.3  # the age shows the outage
        assert not any(e["kind"] == "decision" for e in central_events(direct))
        proxy.start()  # the database is back
        keys = {e["key"] for e in journal_rows(journal)}
        wait_until(
            lambda: {e["key"] for e in central_events(direct)} >= keys,
            timeout=10,
            what="journal shipped after the outage",
        )
        shipped = [e["key"] for e in central_events(direct)]
        assert len(shipped) == len(set(shipped))  # each event exactly once
    finally:
        runtime.stop()
        io.close()
        pty.close()
        proxy.stop()
        via_proxy.dispose()
        direct.dispose()
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _start_controller(
    config_path: Path, journal: Path, log: Path, wait_until: Callable[..., Any]
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sitegate.cli",
                "--config",
                str(config_path),
                "controller",
                "--gates",
                "smelting-east",
                "--id",
                "killme",
                "--journal",
                str(journal),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    runs = log.read_text().count(" running")

    def started() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"controller exited {proc.returncode}: {log.read_text()[-2000:]}")
        return log.read_text().count(" running") > runs

    wait_until(started, timeout=15, what="controller started")
    return proc


def test_sigkill_loses_no_journalled_event(
    tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    url, engine = migrated_sqlite(tmp_path / "central.db")
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.1)
    pty = PtyReaderSim("em4100")
    config_path = tmp_path / "config.toml"
    config_path.write_text(plant_config_text(url, sim.url, in_port=pty.port), encoding="utf-8")
    People(engine, plant_config(url, sim.url))
    journal = tmp_path / "journal.db"
    proc = _start_controller(config_path, journal, tmp_path / "controller.log", wait_until)
    try:
        cards = [f"0C{i:08X}" for i in range(30)]
        for card in cards:
            pty.present(card)
        wait_until(
            lambda: journal.exists() and sum(e["kind"] == "decision" for e in journal_rows(journal)) >= 10,
            what="decisions journalled",
        )
        proc.send_signal(signal.SIGKILL)  # no chance to ship or close anything
        proc.wait(5)
        journalled = {e["key"] for e in journal_rows(journal)}
        assert journalled
        proc = _start_controller(config_path, journal, tmp_path / "controller.log", wait_until)
        wait_until(
            lambda: {e["key"] for e in central_events(engine)} >= journalled,
            timeout=10,
            what="every journalled event shipped after the restart",
        )
        shipped = [e["key"] for e in central_events(engine)]
        assert len(shipped) == len(set(shipped))
        proc.send_signal(signal.SIGTERM)  # a clean stop
        assert proc.wait(10) == 0
        verify = subprocess.run(
            [
                sys.executable,
                "-m",
                "sitegate.cli",
                "--config",
                str(config_path),
                "audit",
                "verify",
                "--journal",
                str(journal),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert verify.returncode == 0 and ": ok:" in verify.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        pty.close()
        engine.dispose()


def test_restart_without_database_decides_from_the_snapshot_cache(
    tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    from sqlalchemy import create_engine

    url, engine = migrated_sqlite(tmp_path / "central.db")
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.1)
    config = plant_config(url, sim.url)
    People(engine, config).visitor(VISITOR)
    journal = tmp_path / "journal.db"

    def run(db_engine: Any) -> tuple[ControllerRuntime, PtyReaderSim, ModbusIoModule]:
        pty = PtyReaderSim("em4100")
        io = ModbusIoModule(sim.url, 1)
        rt = ControllerRuntime(
            config,
            db_engine,
            {"smelting-east": SerialCardReader("smelting-east", "em4100", pty.port)},
            {"smelting-east": io},
            controller_id="cached",
            journal_path=journal,
            gate_ids=["smelting-east"],
        )
        rt.start()
        return rt, pty, io

    first, pty, io = run(engine)
    try:
        wait_until(
            lambda: first.cache.path.exists() and first.cache.saved_change_no == first.site.snapshot.change_no,
            what="snapshot cache written",
        )
    finally:
        first.stop()
        io.close()
        pty.close()
    # The controller restarts while the database is unreachable (its directory is gone).
    gone = create_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'central.db'}")
    second, pty, io = run(gone)
    try:
        assert not second.db_ok and VISITOR in second.site.snapshot.by_card
        assert second.health()["snapshot_age_s"] > 0
        pty.present(VISITOR)
        pty.present(ESCORT_CARD)
        wait_until(
            lambda: any(e["kind"] == "passage" and e["card"] == VISITOR and e["passed"] for e in journal_rows(journal)),
            what="the visitor passes on the cached snapshot",
        )
        decision = [e for e in journal_rows(journal) if e["kind"] == "decision" and e["card"] == VISITOR][-1]
        assert decision["allowed"] and decision["reasons"] == []
    finally:
        second.stop()
        io.close()
        pty.close()
        gone.dispose()
        engine.dispose()
