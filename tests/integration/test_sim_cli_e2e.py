"""The README's second-terminal story, in process: gate controllers wired exactly as
``sitegate serve`` wires them (sitegate.wiring.controllers: simulated readers and
turnstiles from config.toml), driven by ``sitegate sim present``, which prints the decision
from the central events table and what the turnstile did."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.sim_control import request
from sitegate.cli import main
from sitegate.hardware_wiring import sim_socket_path
from sitegate.wiring import controllers
from zones.config import load_config
from zones.db import make_engine, upgrade

pytestmark = pytest.mark.usefixtures("no_thread_leak")

CONFIG = """
[site]
database = "sqlite:///{db}"

[rules]
repeat_read_s = 0   # the tests present one card twice in quick succession on purpose

[[zones]]
id = "smelting"
name = "Smelting"
department = "steelmaking"
risk = "high-risk"
helmet = true

[[gates]]
id = "smelting-east"
zone = "smelting"
direction = "in"
reader = {{ protocol = "em4100", port = "sim" }}
turnstile = {{ modbus = "sim", release_coil = 2, passage_input = 2, pulse_ms = 100, pass_timeout_s = 3 }}

[[gates]]
id = "smelting-exit"
zone = "smelting"
direction = "out"
reader = {{ protocol = "line", port = "sim" }}
turnstile = {{ modbus = "sim", release_coil = 3, passage_input = 3, pulse_ms = 100, pass_timeout_s = 3 }}

[alarm]
modbus = "sim"
input = 10
"""


@pytest.fixture
def running_plant(tmp_path: Path, wait_until: Callable[..., Any]) -> Iterator[str]:
    """Config path of a running plant (what `sitegate serve` starts, without the web)."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG.format(db=tmp_path / "var" / "sitegate.db"), encoding="utf-8")
    config = load_config(config_path)
    engine = make_engine(config.site.database)
    upgrade(engine)
    try:
        with controllers(config, engine, journal_path=str(tmp_path / "journal.db")) as runtime:
            wait_until(
                lambda: all(g.health()["reader"]["online"] for g in runtime.gates.values()), what="readers online"
            )
            yield str(config_path)
    finally:
        engine.dispose()


def sim(config: str, *args: str) -> int:
    return main(["--config", config, "sim", *args])


def test_unknown_card_is_denied_with_its_rule(running_plant: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert sim(running_plant, "present", "--gate", "smelting-east", "--card", "0A00C0FFEE") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["card 0A00C0FFEE presented at smelting-east", "DENIED"]
    assert any(line.startswith("  R3: ") for line in out)  # not an active badge
    assert out[-1] == "turnstile stays locked"


def test_exit_releases_and_the_person_passes_or_not(running_plant: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert sim(running_plant, "present", "--gate", "smelting-exit", "--card", "emp42") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["card EMP42 presented at smelting-exit", "ALLOWED", "turnstile released (coil 3) ... person passed"]
    assert sim(running_plant, "present", "--gate", "smelting-exit", "--card", "emp42", "--no-pass") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "turnstile released (coil 3) ... not passed"


def test_alarm_locks_entries(
    running_plant: str, capsys: pytest.CaptureFixture[str], wait_until: Callable[..., Any]
) -> None:
    socket_path = sim_socket_path(load_config(running_plant))
    assert sim(running_plant, "alarm", "on") == 0
    try:
        # the controller has seen the alarm once it holds the exit open (R16)
        wait_until(
            lambda: request(socket_path, {"op": "status"})["gates"]["smelting-exit"]["coil"], what="exit held open"
        )
        assert sim(running_plant, "present", "--gate", "smelting-east", "--card", "0A00C0FFEE") == 0
        out = capsys.readouterr().out.splitlines()
        assert "DENIED" in out and any(line.startswith("  R16: ") for line in out)
    finally:
        assert sim(running_plant, "alarm", "off") == 0
