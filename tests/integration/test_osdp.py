"""OsdpCardReader (libosdp control panel) against OsdpReaderSim (libosdp's own
PeripheralDevice) on a real pty: card reads, LED / buzzer feedback, secure channel,
unplugging, stale queued reads (libosdp #133), multi-drop, install mode.

Waits poll a condition with a timeout. "Never" assertions (wrong key, stale reads) watch
for a bounded window while the thing they rule out would have happened already.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardware.base import CardRead
from hardware.osdp_bus import OsdpLines
from hardware.osdp_reader import SETTLE_S, OsdpCardReader
from hardware.sim_osdp import OsdpReaderSim, SimLine, wiegand26
from sitegate.hardware_wiring import GateHardware, build_reader
from zones.config import ReaderSection

pytestmark = pytest.mark.usefixtures("no_thread_leak")

KEY = "00112233445566778899AABBCCDDEEFF"
OTHER_KEY = "F0E1D2C3B4A5968778695A4B3C2D1E0F"
GRANTED_CARD = "0A00C0FFEE"


class Decider:
    """A tiny stand-in for the gate controller: grant one known card, deny the rest, and
    show the decision on the reader, as controller/gate.py does after deciding."""

    def __init__(self) -> None:
        self.reader: OsdpCardReader | None = None
        self.decisions: queue.Queue[tuple[CardRead, bool]] = queue.Queue()

    def __call__(self, read: CardRead) -> None:
        allowed = read.card == GRANTED_CARD
        assert self.reader is not None
        self.reader.feedback("granted" if allowed else "denied")
        self.decisions.put((read, allowed))

    def next(self, timeout: float = 5.0) -> tuple[CardRead, bool]:
        try:
            return self.decisions.get(timeout=timeout)
        except queue.Empty:
            assert self.reader is not None
            pytest.fail(f"no decision within {timeout} s; reader health {self.reader.health()}")


def osdp_reader(
    reader_id: str, port: str, lines: OsdpLines, address: int = 0, scbk: str | None = None, install_mode: bool = False
) -> OsdpCardReader:
    return OsdpCardReader(
        reader_id, port, lines, address=address, scbk=bytes.fromhex(scbk) if scbk else None, install_mode=install_mode
    )


@pytest.fixture
def lines() -> OsdpLines:
    return OsdpLines()


@pytest.fixture
def rig(lines: OsdpLines) -> Iterator[Callable[..., tuple[OsdpReaderSim, OsdpCardReader, Decider]]]:
    """``rig(address=0, sim_key=None, reader_key=None, ...)`` -> (sim, reader, decider),
    both started; everything stopped afterwards (reader first: it is the one polling)."""
    made: list[tuple[OsdpReaderSim, OsdpCardReader]] = []

    def make(
        address: int = 0,
        sim_key: str | None = None,
        reader_key: str | None = None,
        sim_install: bool = False,
        reader_install: bool = False,
        sim: OsdpReaderSim | None = None,
        reader_id: str = "gate-t",
    ) -> tuple[OsdpReaderSim, OsdpCardReader, Decider]:
        if sim is None:
            sim = OsdpReaderSim(address=address, scbk=sim_key, install_mode=sim_install).start()
        reader = osdp_reader(reader_id, sim.port, lines, address, reader_key, reader_install)
        made.append((sim, reader))
        decider = Decider()
        decider.reader = reader
        reader.start(decider)
        return sim, reader, decider

    try:
        yield make
    finally:
        for _, reader in made:
            reader.stop()
        for sim, _ in made:
            sim.shutdown()
        assert not lines, "a bus outlived its readers"


def ready(reader: OsdpCardReader, wait_until: Callable[..., Any], secure: bool = False) -> None:
    """Online (and secure), and past the settle period in which reads are discarded."""
    wait_until(lambda: reader.health()["online"], timeout=10, what="reader online")
    if secure:
        assert reader.health()["secure"] is True
    since = reader.health()["online_since"]
    assert isinstance(since, float)
    wait_until(lambda: time.monotonic() - since > SETTLE_S, timeout=SETTLE_S + 1, what="settle period over")


def feedback_seen(sim: OsdpReaderSim, color: str, beeps: int, after: float) -> bool:
    leds = [c for c in sim.leds() if c["at"] > after and c["temporary"] and c["color"] == color]
    buzz = [c for c in sim.buzzers() if c["at"] > after and c["rep_count"] == beeps]
    return bool(leds) and bool(buzz)


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "secure"])
def test_card_read_reaches_decision_and_feedback_reaches_reader(rig, wait_until, key):
    sim, reader, decider = rig(address=5, sim_key=key, reader_key=key)
    ready(reader, wait_until, secure=key is not None)

    t0 = time.monotonic()
    assert sim.present(GRANTED_CARD)
    read, allowed = decider.next()
    assert (read.card, read.reader_id, allowed) == (GRANTED_CARD, "gate-t", True)
    assert t0 < read.read_at <= time.monotonic()
    wait_until(lambda: feedback_seen(sim, "green", 1, t0), what="green LED + 1 beep on the PD")
    assert not [c for c in sim.leds() if c["at"] > t0 and c["color"] == "red"]

    t1 = time.monotonic()
    sim.present("DEADBEEF")
    read, allowed = decider.next()
    assert (read.card, allowed) == ("DEADBEEF", False)
    wait_until(lambda: feedback_seen(sim, "red", 3, t1), what="red LED + 3 beeps on the PD")

    # A 26-bit H10301 read (facility 18, number 4660): parity 1, 00010010,
    # 0001001000110100, parity 1, then 6 padding zeros -> 10001001 00001001 00011010 01000000
    assert sim.present_bits(wiegand26(18, 4660), 26)
    read, _ = decider.next()
    assert read.card == "89091A40"

    health = reader.health()
    assert health["frames"] == 3 and health["discarded"] == 0
    assert health["secure"] is (key is not None)


def test_waiting_idle_feedback_and_tamper_power_reports(rig, wait_until):
    sim, reader, _ = rig(address=1)
    ready(reader, wait_until)
    assert reader.health()["tamper"] is None
    sim.set_status(tamper=True, power_failure=True)
    wait_until(lambda: reader.health()["tamper"] == "tamper", what="tamper reported")
    assert reader.health()["power"] == "failure"
    sim.set_status()
    wait_until(lambda: reader.health()["tamper"] == "normal", what="tamper cleared")
    assert reader.health()["power"] == "normal"

    t0 = time.monotonic()
    reader.feedback("waiting")  # R10: visitor presented, escort not yet
    wait_until(
        lambda: [
            c
            for c in sim.leds()
            if c["at"] > t0 and c["color"] == "amber" and not c["temporary"] and c["off_count"] > 0
        ],
        what="amber flashing (permanent) on the PD",
    )
    t1 = time.monotonic()
    reader.feedback("idle")
    wait_until(
        lambda: [c for c in sim.leds() if c["at"] > t1 and not c["temporary"] and c["color"] == "black"],
        what="LED back to idle",
    )


def test_wrong_scbk_never_comes_online_and_never_decides(rig, wait_until):
    sim, reader, decider = rig(address=7, sim_key=OTHER_KEY, reader_key=KEY)
    deadline = time.monotonic() + 3.5  # the first handshake and a retry (RETRY_MIN_S)
    while time.monotonic() < deadline:
        sim.present(GRANTED_CARD)
        assert reader.health()["online"] is False
        assert reader.health()["secure"] is False
        assert decider.decisions.empty()
        time.sleep(0.2)
    wait_until(
        lambda: "not online" in str(reader.health()["last_error"]),
        timeout=5,
        what="reader answering but refused, in health",
    )
    assert reader.health()["frames"] == 0 and decider.decisions.empty()


@pytest.mark.slow
def test_port_gone_makes_the_reader_offline_and_is_reported(lines, wait_until):
    """The other way to unplug: the serial device itself disappears (USB adapter pulled)."""
    line = SimLine()
    sim = OsdpReaderSim(address=8, line=line).start()
    reader = osdp_reader("gate-u", line.port, lines, 8)
    try:
        reader.start(lambda read: None)
        wait_until(lambda: reader.health()["online"], timeout=10, what="reader online")
        sim.shutdown()
        line.close()  # both ends of the pty gone
        wait_until(lambda: not reader.health()["online"], timeout=8, what="reader offline")
        wait_until(
            lambda: (
                "cannot open" in str(reader.health()["last_error"]) or "failed" in str(reader.health()["last_error"])
            ),
            what="port error in health",
        )
    finally:
        reader.stop()
        sim.shutdown()
        line.close()


def _stale_reads_are_ignored(rig, wait_until, wait_for_pd_offline: bool) -> None:
    sim, reader, decider = rig(address=4, sim_key=KEY, reader_key=KEY)
    ready(reader, wait_until, secure=True)
    sim.close()  # unplugged
    wait_until(lambda: not reader.health()["online"], timeout=8, what="reader offline")
    health = reader.health()
    assert health["secure"] is False
    assert "no reply" in str(health["last_error"])
    reader.feedback("denied")  # best effort while offline: recorded, never raises
    if wait_for_pd_offline:  # the reader itself gives up on the CP (~8 s)
        wait_until(lambda: not sim.online, timeout=15, what="PD sees the CP gone")
    for card in (GRANTED_CARD, "11111111", GRANTED_CARD):
        assert sim.present(card)  # queued inside the PD while the cable is out
    sim.reopen()
    wait_until(
        lambda: reader.health()["discarded_by_reason"].get("stale", 0) == 3,
        timeout=20,
        what="3 queued reads discarded as stale",
    )
    assert decider.decisions.empty()
    assert reader.health()["frames"] == 0

    ready(reader, wait_until, secure=True)
    sim.present(GRANTED_CARD)  # a fresh read after the settle period counts again
    read, allowed = decider.next()
    assert (read.card, allowed) == (GRANTED_CARD, True)


@pytest.mark.slow
def test_unplugged_reader_goes_offline_within_8_s_and_its_queued_reads_are_ignored(rig, wait_until):
    _stale_reads_are_ignored(rig, wait_until, wait_for_pd_offline=False)


@pytest.mark.slow
def test_reads_queued_while_offline_are_ignored_after_reconnect(rig, wait_until):
    _stale_reads_are_ignored(rig, wait_until, wait_for_pd_offline=True)


def test_multidrop_readers_share_one_control_panel(rig, lines, wait_until):
    line = SimLine()
    sims = [OsdpReaderSim(address=a, scbk=k, line=line).start() for a, k in ((1, KEY), (2, None))]
    try:
        (_, r1, d1), (_, r2, d2) = (
            rig(sim=sims[0], address=1, reader_key=KEY, reader_id="gate-a"),
            rig(sim=sims[1], address=2, reader_id="gate-b"),
        )
        bus = lines.bus(line.port)
        assert bus is not None and bus.readers == {1: r1, 2: r2}
        ready(r1, wait_until, secure=True)
        ready(r2, wait_until)
        t0 = time.monotonic()
        sims[1].present(GRANTED_CARD)
        read, _ = d2.next()
        assert read.reader_id == "gate-b"
        sims[0].present("CAFE")
        read, allowed = d1.next()
        assert (read.reader_id, read.card, allowed) == ("gate-a", "CAFE", False)
        wait_until(lambda: feedback_seen(sims[1], "green", 1, t0), what="green on reader 2")
        wait_until(lambda: feedback_seen(sims[0], "red", 3, t0), what="red on reader 1")
        assert not [c for c in sims[1].leds() if c["at"] > t0 and c["color"] == "red"]
        assert d1.decisions.empty() and d2.decisions.empty()
        r2.stop()  # the line keeps running for the other reader
        assert lines.bus(line.port) is bus and bus.readers == {1: r1}
        ready(r1, wait_until, secure=True)
        sims[0].present(GRANTED_CARD)
        assert d1.next()[0].card == GRANTED_CARD
    finally:
        for s in sims:
            s.shutdown()
        line.close()


def test_install_mode_pairs_a_new_reader_then_secure_only(rig, wait_until):
    sim, reader, _ = rig(address=9, sim_install=True, reader_key=KEY, reader_install=True)
    wait_until(lambda: reader.health()["secure"], timeout=10, what="secure after pairing")
    assert sim.scbk == bytes.fromhex(KEY)
    assert not [c for c in sim.commands if "data" in c]  # the key is not kept in the log
    reader.stop()
    # install_mode turned off in config.toml: the paired reader comes back, secure only
    _, again, decider = rig(sim=sim, address=9, reader_key=KEY, reader_id="gate-t2")
    ready(again, wait_until, secure=True)
    sim.present(GRANTED_CARD)
    assert decider.next()[1] is True


def test_wiring_builds_a_simulated_reader_for_port_sim(wait_until):
    hw = GateHardware()
    section = ReaderSection(protocol="osdp", port="sim", address=3, scbk=KEY)
    reader = build_reader("smelting-east", section, hw)
    hw.readers["smelting-east"] = reader
    decider = Decider()
    assert isinstance(reader, OsdpCardReader)
    decider.reader = reader
    try:
        sim = hw.sims.readers["smelting-east"]
        assert isinstance(sim, OsdpReaderSim) and reader.port == sim.port
        assert (sim.address, sim.scbk) == (3, bytes.fromhex(KEY))
        reader.start(decider)
        ready(reader, wait_until, secure=True)
        sim.present(GRANTED_CARD)
        read, allowed = decider.next()
        assert (read.reader_id, allowed) == ("smelting-east", True)
    finally:
        hw.close()
    assert not hw.osdp_lines


def test_gate_end_to_end_over_osdp(tmp_path, make_turnstile_sim, wait_until):
    """The lead's ControllerRuntime deciding from a migrated database: an escort's card
    releases the coil and shows green + 1 beep, an unknown card red + 3 beeps; an
    unplugged reader shows offline in the gate's health."""
    from controller.runtime import ControllerRuntime
    from hardware.modbus_io import ModbusIoModule
    from tests.integration.plant import ESCORT_CARD, People, migrated_sqlite, plant_config

    url, engine = migrated_sqlite(tmp_path / "central.db")
    turnstile = make_turnstile_sim(turnstiles=[(0, 0)], pass_delay_s=0.1)
    sim = OsdpReaderSim(address=0, scbk=KEY)
    config = plant_config(url, turnstile.url, protocol="osdp", in_port=sim.port)
    People(engine, config)
    section = config.gate("smelting-east").reader
    reader = OsdpCardReader(
        "smelting-east", section.port, OsdpLines(), baud=section.baud, address=section.address, scbk=bytes.fromhex(KEY)
    )
    io = ModbusIoModule(turnstile.url, 1)
    runtime = ControllerRuntime(
        config,
        engine,
        {"smelting-east": reader},
        {"smelting-east": io},
        controller_id="osdp-test",
        journal_path=tmp_path / "journal.db",
        gate_ids=["smelting-east"],
    )
    sim.start()
    runtime.start()
    try:
        gate = runtime.gates["smelting-east"]
        ready(reader, wait_until, secure=True)
        wait_until(lambda: gate.health()["reader"]["secure"], what="gate health shows secure")
        t0 = time.monotonic()
        sim.present(ESCORT_CARD)
        wait_until(lambda: [v for _, v in turnstile.coil_history(0) if v], what="release coil set")
        wait_until(lambda: feedback_seen(sim, "green", 1, t0), what="green + 1 beep")
        t1 = time.monotonic()
        sim.present("0C0C0C0C0C")  # nobody's card
        wait_until(lambda: feedback_seen(sim, "red", 3, t1), what="red + 3 beeps")
        assert gate.counters["granted"] == 1 and gate.counters["denied"] == 1
        sim.close()
        wait_until(
            lambda: gate.health()["reader"]["online"] is False, timeout=8, what="gate health shows the reader offline"
        )
    finally:
        runtime.stop()  # stops the reader
        sim.shutdown()
        io.close()
        engine.dispose()


def test_missing_port_is_reported_not_raised_and_addresses_are_unique(lines, tmp_path, wait_until):
    from hardware.base import HardwareInitError

    missing = str(tmp_path / "ttyUSB9")
    reader = osdp_reader("gate-x", missing, lines, 1)
    twin = osdp_reader("gate-y", missing, lines, 1)
    try:
        reader.start(lambda read: None)  # contract: never raises for a missing port
        wait_until(lambda: "cannot open" in str(reader.health()["last_error"]), what="missing port reported")
        assert reader.health()["online"] is False
        with pytest.raises(HardwareInitError, match="address 1"):
            twin.start(lambda read: None)
        bus = lines.bus(missing)
        assert bus is not None and bus.readers == {1: reader}
    finally:
        twin.stop()
        reader.stop()
    assert not lines
