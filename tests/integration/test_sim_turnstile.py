"""TurnstileSim behaves like a turnstile on a Modbus I/O module: a person passes some time
after a release (or nobody does), every coil write is timestamped, and it restarts on the
same port like a rebooted module."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from pymodbus.client import ModbusTcpClient

pytestmark = pytest.mark.usefixtures("no_thread_leak")


@pytest.fixture
def client(turnstile_sim: Any) -> Any:
    c = ModbusTcpClient("127.0.0.1", port=turnstile_sim.port, timeout=1, retries=0)
    assert c.connect()
    try:
        yield c
    finally:
        c.close()


def test_release_lets_one_person_through(
    turnstile_sim: Any, client: Any, wait_until: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hardware.sim_turnstile")
    assert turnstile_sim.url == f"tcp://127.0.0.1:{turnstile_sim.port}"
    client.write_coil(2, True, device_id=1)
    assert turnstile_sim.coil(2) is True
    wait_until(lambda: client.read_discrete_inputs(2, count=1, device_id=1).bits[0], what="person passes")
    wait_until(lambda: not turnstile_sim.input(2), what="input back to 0 after the hold")
    assert [i for _, i in turnstile_sim.passes()] == [2]
    assert "gate coil 2 -> 1" in caplog.text
    assert "person passed, input 2 = 1" in caplog.text
    # holding the coil does not let a second person through; only a new 0 -> 1 does
    client.write_coil(2, True, device_id=1)
    client.write_coil(2, False, device_id=1)
    client.write_coil(2, True, device_id=1)
    wait_until(lambda: len(turnstile_sim.passes()) == 2, what="second passage")
    assert turnstile_sim.releases(2) == 2


def test_coil_history_times_every_write_in_the_server(turnstile_sim: Any, client: Any) -> None:
    before = time.monotonic()
    client.write_coil(3, True, device_id=1)
    client.write_coils(3, [False, True], device_id=1)  # coil 3 and coil 4 in one request
    after = time.monotonic()
    history = turnstile_sim.coil_history(3)
    assert [v for _, v in history] == [True, False]
    assert before <= history[0][0] <= history[1][0] <= after
    assert [v for _, v in turnstile_sim.coil_history(4)] == [True]
    assert turnstile_sim.coil_history(5) == []


def test_nobody_passes_when_probability_is_zero(
    make_turnstile_sim: Callable[..., Any],
    wait_until: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hardware.sim_turnstile")
    sim = make_turnstile_sim(turnstiles=[(0, 1)], pass_delay_s=0.05, pass_probability=0.0)
    c = ModbusTcpClient("127.0.0.1", port=sim.port, timeout=1, retries=0)
    try:
        c.write_coil(0, True, device_id=1)
        wait_until(lambda: "nobody passed, input 1 stays 0" in caplog.text, what="the no-show")
        assert sim.passes() == [] and sim.input(1) is False
    finally:
        c.close()


def test_skip_next_makes_exactly_one_release_a_no_show(
    make_turnstile_sim: Callable[..., Any],
    wait_until: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="hardware.sim_turnstile")
    sim = make_turnstile_sim(turnstiles=[(0, 0)], pass_delay_s=0.05)
    sim.skip_next(0)
    c = ModbusTcpClient("127.0.0.1", port=sim.port, timeout=1, retries=0)
    try:
        c.write_coil(0, True, device_id=1)
        wait_until(lambda: "nobody passed" in caplog.text, what="the no-show")
        c.write_coil(0, False, device_id=1)
        c.write_coil(0, True, device_id=1)
        wait_until(lambda: sim.passes(), what="the next release is used")
    finally:
        c.close()


def test_seeded_draws_repeat(make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]) -> None:
    outcomes = []
    for _ in range(2):
        sim = make_turnstile_sim(turnstiles=[(0, 0)], pass_delay_s=0.0, pass_probability=0.5, seed=7, input_hold_s=0.0)
        c = ModbusTcpClient("127.0.0.1", port=sim.port, timeout=1, retries=0)
        try:
            seen = []
            for i in range(8):
                c.write_coil(0, True, device_id=1)
                c.write_coil(0, False, device_id=1)
                # the draw happens after the (zero) delay: wait until it was made
                wait_until(lambda sim=sim: not sim._tasks, what=f"draw {i}")
                seen.append(len(sim.passes()))
            outcomes.append(seen)
        finally:
            c.close()
            sim.stop()
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0][-1] < 8  # some passed, some did not


def test_restart_on_the_same_port_starts_fresh(turnstile_sim: Any) -> None:
    c = ModbusTcpClient("127.0.0.1", port=turnstile_sim.port, timeout=1, retries=0)
    try:
        c.write_coil(6, True, device_id=1)
        port = turnstile_sim.port
        turnstile_sim.stop()
        assert not turnstile_sim.running
        with pytest.raises(RuntimeError):
            turnstile_sim.coil(6)
        assert turnstile_sim.start() == port
        assert turnstile_sim.coil(6) is False  # a rebooted module has its outputs off
    finally:
        c.close()


def test_second_server_on_a_taken_port_fails_to_start(
    turnstile_sim: Any, make_turnstile_sim: Callable[..., Any]
) -> None:
    with pytest.raises(RuntimeError, match="cannot start"):
        make_turnstile_sim(port=turnstile_sim.port)


def test_alarm_contact_input(turnstile_sim: Any, client: Any) -> None:
    turnstile_sim.set_input(10, True)
    assert client.read_discrete_inputs(10, count=1, device_id=1).bits[0] is True
    turnstile_sim.set_input(10, False)
    assert turnstile_sim.input(10) is False


def test_two_quick_releases_give_two_separate_input_pulses(
    make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]
) -> None:
    sim = make_turnstile_sim(turnstiles=[(0, 0)], pass_delay_s=0.0, input_hold_s=0.2)
    c = ModbusTcpClient("127.0.0.1", port=sim.port, timeout=1, retries=0)
    try:
        for value in (True, False, True):  # the second release comes while the first passes
            c.write_coil(0, value, device_id=1)
        wait_until(lambda: len(sim.passes()) == 2, what="both passages")
        first, second = (t for t, _ in sim.passes())
        # the second person waited for the first to clear the arm: no merged pulse
        assert second - first >= 0.2
    finally:
        c.close()
