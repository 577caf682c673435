"""Card to coil: time from the last byte of a reader frame written into the pty until the
release coil is set on the Modbus server.

Everything is real: an em4100 frame written to a pty master, pyserial reading the slave,
the controller deciding from a snapshot of a migrated SQLite database, the journal fsync
(WAL, synchronous=FULL), a pymodbus TCP client writing the coil, a pymodbus server
recording the moment the write arrives (TurnstileSim.coil_history).

    .venv/bin/python -m bench.card_to_coil [--presentations 1000] [--protocol em4100]

Each presentation is a different employee walking in (distinct cards, so anti-passback
does not deny repeats); the next card is presented after the previous passage finished.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._wait import wait
from controller.runtime import ControllerRuntime
from hardware.modbus_io import ModbusIoModule
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim
from hardware.sim_turnstile import TurnstileSim
from zones.db import make_engine, session_factory, upgrade
from zones.services.people import create_user


def _config(db_url: str, modbus_url: str):
    from tests.integration.plant import plant_config

    return plant_config(db_url, modbus_url, max_occupancy=1_000_000)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presentations", type=int, default=1000)
    ap.add_argument("--protocol", choices=["em4100", "line"], default="em4100")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="sitegate-bench-"))
    url = f"sqlite:///{tmp / 'central.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sim = TurnstileSim(pass_delay_s=0.005)
    sim.add_turnstile(0, 0)
    sim.add_turnstile(1, 1)
    sim.start()
    config = _config(url, sim.url)
    cards = [f"0E{i:08X}" for i in range(args.presentations)]
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
    pty = PtyReaderSim(args.protocol)
    reader = SerialCardReader("smelting-east", args.protocol, pty.port)
    io = ModbusIoModule(sim.url, 1)
    runtime = ControllerRuntime(
        config,
        engine,
        {"smelting-east": reader},
        {"smelting-east": io},
        controller_id="bench",
        journal_path=tmp / "journal.db",
        gate_ids=["smelting-east"],
    )
    runtime.start()
    gate = runtime.gates["smelting-east"]
    wait(lambda: reader.health()["online"] and len(runtime.site.snapshot.by_card) >= len(cards))
    from hardware.framing import encode_em4100, encode_line

    encode = encode_em4100 if args.protocol == "em4100" else encode_line
    latencies: list[float] = []
    try:
        for i, card in enumerate(cards):
            frame = encode(card)
            before = len(sim.coil_history(0))
            pty.write_raw(frame)  # returns once the last byte is in the pty
            sent = time.monotonic()
            wait(lambda: len(sim.coil_history(0)) > before)  # noqa: B023 - polled within this iteration
            t_coil, value = sim.coil_history(0)[before]
            assert value, "the first write after a card must set the coil"
            latencies.append((t_coil - sent) * 1000)
            wait(lambda: gate.counters["passed"] + gate.counters["not_passed"] > i)  # noqa: B023 - polled within this iteration  # turnstile ready again
    finally:
        runtime.stop()
        io.close()
        reader.stop()
        pty.close()
        sim.stop()
        engine.dispose()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        f"card to coil over {len(latencies)} presentations ({args.protocol}, pty -> pyserial -> decide -> "
        f"journal fsync -> Modbus TCP):"
    )
    print(
        f"  p50 {q[49]:.2f} ms   p99 {q[98]:.2f} ms   max {latencies[-1]:.2f} ms   mean {statistics.fmean(latencies):.2f} ms"
    )
    denied = gate.counters["denied"]
    if denied:
        print(f"  warning: {denied} presentations were denied", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
