"""Two ``sitegate controller`` processes on one PostgreSQL under load (issue 12): one is
SIGKILLed mid-load and restarted; every event of both journals reaches the central events
table exactly once, and each process serves its own Prometheus metrics."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hardware.sim_reader import PtyReaderSim
from tests.conftest import pg_admin, pg_url
from tests.integration.plant import People, central_events, journal_rows, plant_config, plant_config_text
from zones.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def _controller(
    config: Path, gate: str, journal: Path, log: Path, wait_until: Callable[..., Any]
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sitegate.cli",
                "--config",
                str(config),
                "controller",
                "--gates",
                gate,
                "--id",
                gate,
                "--journal",
                str(journal),
                "--metrics-port",
                "0",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    runs = log.read_text().count(" running")

    def started() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"controller exited {proc.returncode}: {log.read_text()[-2000:]}")
        return log.read_text().count(" running") > runs

    wait_until(started, timeout=20, what=f"controller {gate} started")
    return proc


class Load:
    """Presents a new card every ``period_s`` at each reader until stopped."""

    def __init__(self, ptys: list[PtyReaderSim], period_s: float = 0.05):
        self.ptys, self.period_s, self.presented = ptys, period_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self.period_s):
            for pty in self.ptys:
                n += 1
                pty.present(f"0E{n:08X}")
            self.presented = n

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.mark.postgres
def test_two_controllers_one_killed_mid_load_every_event_once(
    pg_template: str, tmp_path: Path, make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    name = f"{pg_template}_{secrets.token_hex(3)}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    engine = make_engine(pg_url(name))
    sim = make_turnstile_sim(turnstiles=[(0, 0), (1, 1)], pass_delay_s=0.02)
    pty_in, pty_out = PtyReaderSim("em4100"), PtyReaderSim("em4100")
    config = tmp_path / "config.toml"
    config.write_text(
        plant_config_text(pg_url(name), sim.url, in_port=pty_in.port, out_port=pty_out.port), encoding="utf-8"
    )
    People(engine, plant_config(pg_url(name), sim.url))
    journals = {g: tmp_path / f"journal-{g}.db" for g in ("smelting-east", "smelting-exit")}
    logs = {g: tmp_path / f"{g}.log" for g in journals}
    procs = {g: _controller(config, g, journals[g], logs[g], wait_until) for g in journals}
    load = Load([pty_in, pty_out])
    try:
        # The exit controller's own /metrics (a process of its own, --metrics-port).
        port = re.search(r"metrics on http://127.0.0.1:(\d+)/metrics", logs["smelting-exit"].read_text())
        assert port is not None
        metrics_url = f"http://127.0.0.1:{port.group(1)}/metrics"

        def exit_decisions() -> float:
            with urllib.request.urlopen(metrics_url, timeout=5) as r:
                families = text_string_to_metric_families(r.read().decode())
                return sum(
                    s.value
                    for f in families
                    for s in f.samples
                    if s.name == "sitegate_decisions_total" and s.labels.get("gate") == "smelting-exit"
                )

        wait_until(lambda: exit_decisions() >= 5, timeout=10, what="exit decisions counted")
        killed = "smelting-east"
        wait_until(lambda: sum(e["kind"] == "decision" for e in journal_rows(journals[killed])) >= 10, what="load")
        procs[killed].send_signal(signal.SIGKILL)  # mid-load: no shipping, no clean close
        procs[killed].wait(5)
        time.sleep(0.5)  # cards keep coming at the dead controller's reader
        procs[killed] = _controller(config, killed, journals[killed], logs[killed], wait_until)
        time.sleep(1.0)
        load.stop()
        for g in journals:  # a clean stop ships what is left
            procs[g].send_signal(signal.SIGTERM)
            assert procs[g].wait(15) == 0
        journalled = [e["key"] for g in journals for e in journal_rows(journals[g])]
        central = Counter(e["key"] for e in central_events(engine))
        assert len(journalled) == len(set(journalled)) > 40
        assert set(central) == set(journalled)  # nothing lost, nothing invented
        assert max(central.values()) == 1  # nothing twice
        kinds = Counter(e["kind"] for e in central_events(engine))
        assert kinds["decision"] > 20 and kinds["passage"] > 5
    finally:
        load.stop()
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        pty_in.close()
        pty_out.close()
        engine.dispose()
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
