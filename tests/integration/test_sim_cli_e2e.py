"""The README's second-terminal story, in process: gate controllers wired exactly as
``sitegate serve`` wires them (sitegate.wiring.controllers: simulated readers and
turnstiles from config.toml), driven by ``sitegate sim present``, which prints the decision
from the central events table and what the turnstile did."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from hardware.sim_control import request
from sitegate.cli import main
from sitegate.hardware_wiring import sim_socket_path
from sitegate.wiring import controllers
from tests.integration.plant import ESCORT_CARD, People, central_events
from zones.config import load_config
from zones.db import make_engine, upgrade

pytestmark = pytest.mark.usefixtures("no_thread_leak")

VISITORS = ["0A00000001", "0A00000002", "0A00000003"]  # seeded "Visitor <card>", escort Wang Wei (R10)
NO_HELMET = "0A00000003"  # everything but the helmet (R12)

CONFIG = """
[site]
database = "sqlite:///{db}"

[rules]
repeat_read_s = 0   # the tests present one card twice in quick succession on purpose
escort_window_s = {window}

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


@contextmanager
def plant(tmp_path: Path, wait_until: Callable[..., Any], window: float = 10, visitors: int = 0) -> Iterator[str]:
    """Config path of a running plant (what `sitegate serve` starts, without the web), with
    ``visitors`` visitors ready for the smelting zone but for their escort (cards VISITORS)."""
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG.format(db=tmp_path / "var" / "sitegate.db", window=window), encoding="utf-8")
    config = load_config(config_path)
    engine = make_engine(config.site.database)
    upgrade(engine)
    if visitors:
        people = People(engine, config)
        for card in VISITORS[:visitors]:
            people.visitor(card, helmet=card != NO_HELMET)
    try:
        with controllers(config, engine, journal_path=str(tmp_path / "journal.db")) as runtime:
            wait_until(
                lambda: all(g.health()["reader"]["online"] for g in runtime.gates.values()), what="readers online"
            )
            yield str(config_path)
    finally:
        engine.dispose()


@pytest.fixture
def running_plant(tmp_path: Path, wait_until: Callable[..., Any]) -> Iterator[str]:
    with plant(tmp_path, wait_until) as config:
        yield config


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


def test_visitor_waits_for_the_escort_and_the_escort_confirms(
    tmp_path: Path, wait_until: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """R10 in the second terminal: the visitor's card says at once that the gate waits for
    the escort and gives the prompt back; the escort's card names whom it confirmed."""
    with plant(tmp_path, wait_until, visitors=2) as config:
        for card in VISITORS[:2]:
            started = time.monotonic()
            assert sim(config, "present", "--gate", "smelting-east", "--card", card) == 0
            assert time.monotonic() - started < 5, "the window is 10 s: the visitor's command must not wait it out"
            assert capsys.readouterr().out.splitlines() == [
                f"card {card} presented at smelting-east",
                "waiting for the escort (R10, 10 s)",
            ]
        started = time.monotonic()
        assert sim(config, "present", "--gate", "smelting-east", "--card", ESCORT_CARD) == 0
        assert time.monotonic() - started < 5
        assert capsys.readouterr().out.splitlines() == [
            f"card {ESCORT_CARD} presented at smelting-east",
            *(f"confirmed {card} Visitor {card} -> ALLOWED" for card in VISITORS[:2]),
            "ALLOWED",
            "turnstile releases for each in turn, the visitors first",
        ]
        # and the turnstile does: both visitors, then the escort
        socket_path = sim_socket_path(load_config(config))
        wait_until(
            lambda: request(socket_path, {"op": "status"})["gates"]["smelting-east"]["passes"] == 3,
            timeout=15,
            what="three passages",
        )


def test_R10_denial_says_within_the_window_only_when_the_gate_waited(
    tmp_path: Path, wait_until: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with plant(tmp_path, wait_until, window=0.5, visitors=3) as config:
        # no helmet either: denied at once, and the R10 reason says no "within"
        assert sim(config, "present", "--gate", "smelting-east", "--card", NO_HELMET) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[1] == "DENIED" and out[-1] == "turnstile stays locked"
        r10 = [line for line in out if line.startswith("  R10: ")]
        assert r10 == ["  R10: no escort card presented; the escort of record (Wang Wei) must present their card"]
        assert any(line.startswith("  R12: ") for line in out)
        # only the escort missing: the gate waits the window out, then the reason says so
        assert sim(config, "present", "--gate", "smelting-east", "--card", VISITORS[0]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "waiting for the escort (R10, 0.5 s)"
        engine = make_engine(load_config(config).site.database)
        try:
            denied = wait_until(
                lambda: central_events(engine, kind="decision", card=VISITORS[0]), timeout=10, what="the denial"
            )
        finally:
            engine.dispose()
        assert [r["message"] for r in denied[0]["reasons"]] == [
            "no escort card presented within 0.5 s; the escort of record (Wang Wei) must present their card"
        ]


def test_an_escort_refused_for_themselves_still_confirms_their_visitor(
    tmp_path: Path, wait_until: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The escort is recorded inside already (R15 anti-passback): their visitor is confirmed
    and released, the escort is not, and the terminal says so (not "stays locked")."""
    with plant(tmp_path, wait_until, window=3, visitors=1) as config:
        assert sim(config, "present", "--gate", "smelting-east", "--card", ESCORT_CARD) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "turnstile released (coil 2) ... person passed"
        time.sleep(3.2)  # the escort's own entry no longer counts as present for the window (R10)
        assert sim(config, "present", "--gate", "smelting-east", "--card", VISITORS[0]) == 0
        assert capsys.readouterr().out.splitlines()[-1] == "waiting for the escort (R10, 3 s)"
        assert sim(config, "present", "--gate", "smelting-east", "--card", ESCORT_CARD) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[1:3] == [f"confirmed {VISITORS[0]} Visitor {VISITORS[0]} -> ALLOWED", "DENIED"]
        assert out[3].startswith("  R15: ")
        assert out[-1] == "turnstile releases for the visitors only"
