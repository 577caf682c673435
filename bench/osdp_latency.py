"""OSDP card read latency: from ``submit_event`` on a libosdp PeripheralDevice (the reader
sees a card) to our ``on_card`` callback, and, with ``--full``, to the release coil being
set on a pymodbus server by the gate controller.

Everything is real: OsdpReaderSim (libosdp PD) on a pty, OsdpCardReader (libosdp CP over
pyserial), and for ``--full`` the ControllerRuntime deciding from a migrated SQLite
database, the journal fsync and a Modbus TCP coil write (as bench/card_to_coil.py).

    .venv/bin/python -m bench.osdp_latency [--reads 200] [--mode plain|secure|both] [--full]

Reads are sequential: the next card is presented once the previous one arrived (and, with
``--full``, once its passage finished), after a random 0-200 ms pause, so that cards
arrive at random points of libosdp's poll cycle as they do at a real gate (without it
every read lands just after a poll and waits a whole poll period).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._wait import wait
from hardware.base import CardRead
from hardware.osdp_bus import OsdpLines
from hardware.osdp_reader import SETTLE_S, OsdpCardReader
from hardware.sim_osdp import OsdpReaderSim

KEY = "00112233445566778899AABBCCDDEEFF"


def settled(reader: OsdpCardReader) -> bool:
    h = reader.health()
    since = h["online_since"]
    return bool(h["online"]) and isinstance(since, float) and time.monotonic() - since > SETTLE_S


def summary(name: str, ms: list[float]) -> str:
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return (
        f"  {name:<34} p50 {q[49]:7.1f} ms   p99 {q[98]:7.1f} ms   max {ms[-1]:7.1f} ms   "
        f"mean {statistics.fmean(ms):6.1f} ms"
    )


def reader_latency(n: int, key: str | None) -> list[str]:
    arrived: list[tuple[CardRead, float]] = []
    got = threading.Event()

    def on_card(read: CardRead) -> None:
        arrived.append((read, time.monotonic()))
        got.set()

    sim = OsdpReaderSim(address=1, scbk=key).start()
    lines = OsdpLines()
    reader = OsdpCardReader("bench", sim.port, lines, address=1, scbk=bytes.fromhex(key) if key else None)
    delivered, callback = [], []
    try:
        reader.start(on_card)
        wait(lambda: settled(reader))
        bus = lines.bus(sim.port)
        assert bus is not None
        channel = bus.channel
        p0, t0 = channel.packets_sent, time.monotonic()
        time.sleep(2.0)  # idle: only libosdp's polls
        poll_ms = (time.monotonic() - t0) * 1000 / max(1, channel.packets_sent - p0)
        for i in range(n):
            got.clear()
            time.sleep(random.uniform(0, 0.2))
            card = f"0E{i:08X}"
            sent = time.monotonic()
            sim.present(card)
            wait(got.is_set, 5)
            read, at = arrived[-1]
            assert read.card == card, (read.card, card)
            delivered.append((read.read_at - sent) * 1000)
            callback.append((at - sent) * 1000)
        health = reader.health()
    finally:
        reader.stop()
        sim.shutdown()
    mode = "secure" if key else "plain"
    return [
        f"{mode}: {n} reads, CP polls the idle PD every {poll_ms:.1f} ms "
        f"(health: frames {health['frames']}, discarded {health['discarded']})",
        summary("submit_event -> libosdp CP callback", delivered),
        summary("submit_event -> on_card", callback),
    ]


def full_path(n: int, key: str | None) -> list[str]:
    from controller.runtime import ControllerRuntime
    from hardware.modbus_io import ModbusIoModule
    from hardware.sim_turnstile import TurnstileSim
    from tests.integration.plant import plant_config
    from zones.db import make_engine, session_factory, upgrade
    from zones.services.people import create_user

    tmp = Path(tempfile.mkdtemp(prefix="sitegate-osdp-bench-"))
    url = f"sqlite:///{tmp / 'central.db'}"
    engine = make_engine(url)
    upgrade(engine)
    turnstile = TurnstileSim(pass_delay_s=0.005)
    turnstile.add_turnstile(0, 0)
    turnstile.start()
    sim = OsdpReaderSim(address=0, scbk=key)
    config = plant_config(url, turnstile.url, protocol="osdp", in_port=sim.port, max_occupancy=1_000_000)
    cards = [f"0E{i:08X}" for i in range(n)]
    with session_factory(engine)() as s:
        for i, card in enumerate(cards):
            create_user(
                s,
                f"Worker {i}",
                "guard",
                department="steelmaking",
                card=card,
                access_zones=["smelting"],
                zones=config.zone_map(),
            )
        s.commit()
    section = config.gate("smelting-east").reader
    reader = OsdpCardReader(
        "smelting-east",
        section.port,
        OsdpLines(),
        baud=section.baud,
        address=section.address,
        scbk=bytes.fromhex(key) if key else None,
    )
    io = ModbusIoModule(turnstile.url, 1)
    runtime = ControllerRuntime(
        config,
        engine,
        {"smelting-east": reader},
        {"smelting-east": io},
        controller_id="bench",
        journal_path=tmp / "journal.db",
        gate_ids=["smelting-east"],
    )
    latencies: list[float] = []
    sim.start()
    runtime.start()
    try:
        gate = runtime.gates["smelting-east"]
        wait(lambda: settled(reader) and len(runtime.site.snapshot.by_card) >= len(cards), 30)
        for i, card in enumerate(cards):
            time.sleep(random.uniform(0, 0.2))
            before = len(turnstile.coil_history(0))
            sent = time.monotonic()
            sim.present(card)
            wait(lambda: len(turnstile.coil_history(0)) > before)  # noqa: B023 - polled within this iteration
            t_coil, value = turnstile.coil_history(0)[before]
            assert value, "the first write after a card must set the coil"
            latencies.append((t_coil - sent) * 1000)
            wait(lambda: gate.counters["passed"] + gate.counters["not_passed"] > i)  # noqa: B023 - polled within this iteration
        denied = gate.counters["denied"]
    finally:
        runtime.stop()
        sim.shutdown()
        io.close()
        turnstile.stop()
        engine.dispose()
    mode = "secure" if key else "plain"
    lines = [summary(f"{mode}: submit_event -> release coil", latencies)]
    if denied:
        lines.append(f"  warning: {denied} presentations were denied")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reads", type=int, default=200)
    ap.add_argument("--mode", choices=["plain", "secure", "both"], default="both")
    ap.add_argument("--full", action="store_true", help="also card -> release coil via the controller")
    args = ap.parse_args(argv)
    modes: dict[str, list[str | None]] = {"plain": [None], "secure": [KEY], "both": [None, KEY]}
    keys = modes[args.mode]
    print("OSDP reader latency (libosdp 3.2.9 CP <-> PD over a pty; both refresh every 20 ms):")
    for key in keys:
        for line in reader_latency(args.reads, key):
            print(line, flush=True)
    if args.full:
        print("full path (controller decides, journal fsync, Modbus TCP coil write):")
        for key in keys:
            for line in full_path(args.reads, key):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
