"""ModbusIoModule against real pymodbus servers (the TurnstileSim over TCP and over RTU on a
bridged pty pair) and against a mute TCP peer. A dead module must fail fast with the
hardware.base errors, back off, and come back by itself (contract: "If the I/O module
cannot be reached the gate reports a fault and entry stays locked")."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.base import HardwareError, HardwareInitError, HardwareOperationError, HardwareTimeout
from hardware.modbus_io import ModbusIoModule, close_all, module_for
from hardware.ptybridge import PtyBridge

pytestmark = pytest.mark.usefixtures("no_thread_leak")


@pytest.fixture
def io(turnstile_sim: Any) -> Iterator[ModbusIoModule]:
    module = ModbusIoModule(turnstile_sim.url, unit=1, timeout=0.5)
    try:
        yield module
    finally:
        module.close()


def test_write_coil_and_read_inputs(io: ModbusIoModule, turnstile_sim: Any) -> None:
    io.write_coil(5, True)
    assert turnstile_sim.coil(5) is True
    assert io.read_coils(5) == [True]
    io.write_coil(5, False)
    assert turnstile_sim.coil(5) is False

    turnstile_sim.set_input(12, True)
    assert io.read_inputs(12) == [True]
    assert io.read_inputs(10, count=4) == [False, False, True, False]
    assert io.connected


def test_release_coil_makes_a_person_pass(
    io: ModbusIoModule, turnstile_sim: Any, wait_until: Callable[..., Any]
) -> None:
    io.write_coil(2, True)
    wait_until(lambda: io.read_inputs(2) == [True], what="passage input 2")
    io.write_coil(2, False)
    wait_until(lambda: io.read_inputs(2) == [False], what="passage input back to 0")
    assert [v for _, v in turnstile_sim.coil_history(2)] == [True, False]
    assert [inp for _, inp in turnstile_sim.passes()] == [2]


def test_exception_response_is_an_operation_error_not_a_link_fault(io: ModbusIoModule) -> None:
    with pytest.raises(HardwareOperationError, match="refused"):
        io.read_inputs(1000)  # outside the module's 64 inputs: ILLEGAL ADDRESS
    assert io.connected
    assert io.read_inputs(0) == [False]  # no backoff after a refusal


def test_unknown_unit_is_refused(turnstile_sim: Any) -> None:
    module = ModbusIoModule(turnstile_sim.url, unit=7)
    try:
        with pytest.raises(HardwareOperationError):
            module.write_coil(0, True)
    finally:
        module.close()


def test_server_stopped_fails_then_recovers_by_itself(
    io: ModbusIoModule, turnstile_sim: Any, wait_until: Callable[..., Any]
) -> None:
    io.write_coil(0, True)
    turnstile_sim.stop()
    with pytest.raises(HardwareError) as first:
        io.write_coil(0, False)
    assert isinstance(first.value.__cause__, Exception)  # raised ... from the pymodbus error
    assert not io.connected
    # during the backoff the call fails at once, naming the cause
    with pytest.raises(HardwareOperationError, match="unreachable"):
        io.read_inputs(0)

    turnstile_sim.start()  # same port again (a module reboot)

    def works() -> bool:
        try:
            io.write_coil(3, True)
        except HardwareError:
            return False
        return True

    wait_until(works, timeout=10, what="module reachable again")
    assert io.connected
    assert turnstile_sim.coil(3) is True


@pytest.fixture
def mute_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP peer that accepts connections and never answers (a hung module)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, name="mute-server", daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_mute_module_times_out_once_without_retries_then_backs_off(
    mute_server: tuple[str, list[socket.socket]],
) -> None:
    url, accepted = mute_server
    module = ModbusIoModule(url, unit=1, timeout=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(HardwareTimeout):
            module.write_coil(0, True)
        # Bounded: one 0.3 s timeout, no retries. pymodbus's defaults (3 s, 3 retries)
        # would take 12 s; the bound is loose enough for a loaded machine.
        assert time.monotonic() - started < 3.0
        assert len(accepted) == 1
        with pytest.raises(HardwareOperationError, match="unreachable"):
            module.write_coil(0, True)
        assert len(accepted) == 1  # the backoff did not touch the wire
    finally:
        module.close()


def test_connection_refused_is_an_init_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    module = ModbusIoModule(f"tcp://127.0.0.1:{port}", unit=1)  # nobody listens there now
    try:
        with pytest.raises(HardwareInitError):
            module.read_inputs(0)
        assert not module.connected
    finally:
        module.close()


def test_module_for_shares_one_connection_between_gates(turnstile_sim: Any, wait_until: Callable[..., Any]) -> None:
    a = module_for(turnstile_sim.url, 1)
    b = module_for(turnstile_sim.url, 1)
    try:
        assert a is not b and a._link is b._link
        errors: list[BaseException] = []

        def hammer(coil: int) -> None:
            try:
                module = a if coil % 2 else b
                for i in range(50):
                    module.write_coil(coil, bool(i % 2 == 0))
                    module.read_inputs(coil)
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)

        threads = [threading.Thread(target=hammer, args=(c,)) for c in (4, 5, 6, 7)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert all(len(turnstile_sim.coil_history(c)) == 50 for c in (4, 5, 6, 7))
        a.close()
        assert b.read_inputs(0) == [False]  # still open for the other user
    finally:
        b.close()
        close_all()


@pytest.mark.parametrize("url", ["udp://x:1", "tcp://nohost", "rtu://", "sim"])
def test_bad_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        ModbusIoModule(url, unit=1)


def test_rtu_over_bridged_ptys(make_turnstile_sim: Callable[..., Any], wait_until: Callable[..., Any]) -> None:
    bridge = PtyBridge()
    try:
        sim = make_turnstile_sim(turnstiles=[(1, 1)], serial_port=bridge.port_a, baud=19200, pass_delay_s=0.1)
        module = ModbusIoModule(f"rtu://{bridge.port_b}?baud=19200", unit=1)
        try:
            module.write_coil(1, True)
            assert sim.coil(1) is True
            wait_until(lambda: module.read_inputs(1) == [True], what="passage over RTU")
            sim.set_input(9, True)
            assert module.read_inputs(8, count=2) == [False, True]
            with pytest.raises(HardwareOperationError):
                module.read_inputs(1000)
        finally:
            module.close()
            sim.stop()
    finally:
        bridge.close()
