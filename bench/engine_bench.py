"""Decisions per second of the rules engine on a snapshot of N visitors (goal: >= 20,000/s
on one core).

The snapshot is built by zones.snapshot.build_snapshot from a migrated SQLite database
written by bench._dataset (rows as the services write them). Each read of the stream is
decided by the controller's own ``GateController._decide`` (presence lookups, EntryRequest,
zones.rules.decide, fault check), preceded by the ``by_card`` lookups of the visitor's and
the escort's cards, as ``GateController.on_card`` does; journalling and the turnstile are
not part of a decision and are left out (bench/card_to_coil.py times the whole path).

    .venv/bin/python -m bench.engine_bench [--visitors 100000] [--reads 200000]

Read stream: visitor cards drawn at random (91 % of visitors fully qualified, 9 % lacking
one thing, see bench._dataset.PROFILES), 1 % unknown cards, 5 % without an escort card in
the window (R10 wait), the rest with an escort from the pool; 2 visitors per escort are
inside already (anti-passback R15, escort charge R10).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench import _dataset
from controller.gate import GateController
from controller.journal import Journal
from controller.site import SiteContext
from hardware.base import CardRead
from zones.calendar import local
from zones.db import make_engine, session_factory, upgrade
from zones.facts import EntryRequest
from zones.rules import decide
from zones.snapshot import PresenceFact, build_snapshot

UNKNOWN_SHARE, NO_ESCORT_SHARE = 0.01, 0.05


def _read_stream(snap, escort_cards: list[str], n: int, rng: random.Random) -> list[tuple[CardRead, str | None]]:
    visitor_cards = [c for c, f in snap.by_card.items() if f.kind == "visitor"]
    reads = []
    for k in range(n):
        card = f"FF{k:08X}" if rng.random() < UNKNOWN_SHARE else rng.choice(visitor_cards)
        escort = None if rng.random() < NO_ESCORT_SHARE else rng.choice(escort_cards)
        reads.append((CardRead("smelting-east", card), escort))
    return reads


def _during_rebuild(url: str, today, one, reads, seconds: float) -> tuple[list[int], list[float]]:
    """Decisions timed one by one (about 400 reads/s) while another thread rebuilds the
    snapshot from the database again and again, as the controller's sync thread does after
    a change that names nobody. Returns (sorted latencies in ns, build times in s)."""
    stop, builds = threading.Event(), []

    def rebuild() -> None:
        engine = make_engine(url)
        while not stop.is_set():
            with session_factory(engine)() as session:
                started = time.perf_counter()
                build_snapshot(session, today)
                builds.append(time.perf_counter() - started)
        engine.dispose()

    thread = threading.Thread(target=rebuild, name="rebuild")
    thread.start()
    lat, k, deadline = [], 0, time.monotonic() + seconds
    try:
        while time.monotonic() < deadline or not builds:  # at least one whole build overlaps
            read, esc = reads[k % len(reads)]
            k += 1
            t0 = time.perf_counter_ns()
            one(read, esc)
            lat.append(time.perf_counter_ns() - t0)
            time.sleep(0.0025)
    finally:
        stop.set()
        thread.join()
    return sorted(lat), builds


def _percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--visitors", type=int, default=100_000)
    ap.add_argument("--reads", type=int, default=200_000)
    ap.add_argument("--dir", type=Path, default=Path("var/bench"), help="where the database is kept (reused)")
    ap.add_argument("--regen", action="store_true", help="generate the database again")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--during-rebuild",
        type=float,
        default=0,
        metavar="SECONDS",
        help="also time decisions while a thread rebuilds the snapshot for this long",
    )
    args = ap.parse_args(argv)

    pop = _dataset.Population(visitors=args.visitors)
    path, made = _dataset.cached(args.dir, pop, args.regen)
    origin = f"generated in {made['total_s']:.1f} s" if made else "reused"
    print(f"database {path} ({origin})")
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    config = _dataset.site_config()
    policy, zone, section = config.policy(), config.zone_map()[_dataset.ZONE], config.gates[0]
    today = local(datetime.now(UTC), policy.timezone).date()
    with session_factory(engine)() as session:
        started = time.perf_counter()
        snap = build_snapshot(session, today)
        print(f"snapshot: {len(snap.by_card):,} cards, built in {time.perf_counter() - started:.2f} s")
    engine.dispose()

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="sitegate-engine-bench-") as tmp:
        journal = Journal(Path(tmp) / "journal.db")  # required by SiteContext; _decide never writes it
        site = SiteContext(controller_id="bench", policy=policy, journal=journal, stale_read_s=3.0)
        site.snapshot = snap
        gate = GateController(section, zone, site, reader=None, io=None)  # type: ignore[arg-type]
        escorts = [f for f in snap.by_card.values() if f.kind == "employee" and zone.id in f.escort_zones]
        visitors = [f for f in snap.by_card.values() if f.kind == "visitor" and f.badge == "active"]
        for seq, person in enumerate(rng.sample(visitors, 2 * len(escorts)), 1):
            escort = escorts[seq % len(escorts)]
            site.presence.entered(
                PresenceFact(person.person_id, zone.id, datetime.now(UTC), escort.person_id, "visitor"), seq
            )
        reads = _read_stream(snap, [e.card for e in escorts if e.card], args.reads, rng)
        by_card = snap.by_card

        def one(read: CardRead, escort_card: str | None):
            person = by_card.get(read.card)
            escort = by_card.get(escort_card) if escort_card is not None else None
            return gate._decide(read, person, escort)

        for read, esc in reads[:2000]:  # warm-up
            one(read, esc)
        gc.collect()

        # 1. throughput: the loop alone
        started = time.perf_counter()
        outcomes = [one(read, esc) for read, esc in reads]
        elapsed = time.perf_counter() - started

        # 2. latency: each decision timed on its own
        lat: list[int] = []
        clock = time.perf_counter_ns
        for read, esc in reads:
            t0 = clock()
            one(read, esc)
            lat.append(clock() - t0)
        lat.sort()

        # 3. the engine alone: decide() on EntryRequests built beforehand
        now = datetime.now(UTC)
        requests = [
            EntryRequest(card=r.card, person=by_card.get(r.card), now=now, escort=by_card.get(e) if e else None)
            for r, e in reads
        ]
        started = time.perf_counter()
        for req in requests:
            decide(req, zone, policy)
        engine_only = len(requests) / (time.perf_counter() - started)
        del requests
        rebuild_lat, builds = (
            _during_rebuild(f"sqlite:///{path}", today, one, reads, args.during_rebuild)
            if args.during_rebuild
            else ([], [])
        )
        journal.close()

    # 4. a full collection of the cyclic GC walks every fact of the snapshot; in the
    # controller a decision that arrives meanwhile waits for it. gc.freeze() exempts them.
    pauses = []
    for frozen in (False, True):
        if frozen:
            gc.freeze()
        started = time.perf_counter()
        gc.collect()
        pauses.append((time.perf_counter() - started) * 1000)
    gc.unfreeze()

    allowed = sum(d.allowed for d in outcomes)
    rules = Counter(r for d in outcomes for r in d.rules())
    print(
        f"reads: {len(reads):,}; allowed {allowed / len(reads):.1%}, denied {1 - allowed / len(reads):.1%}; "
        f"failing rules: {dict(rules.most_common())}"
    )
    print(f"decisions/s (by_card lookups + GateController._decide): {len(reads) / elapsed:,.0f}")
    print(
        f"per decision: p50 {_percentile(lat, 0.50):.1f} us, p99 {_percentile(lat, 0.99):.1f} us, "
        f"p99.9 {_percentile(lat, 0.999):.1f} us, max {lat[-1] / 1000:.0f} us, "
        f"mean {statistics.fmean(lat) / 1000:.1f} us"
    )
    print(f"decide() alone on prebuilt requests: {engine_only:,.0f} decisions/s")
    if rebuild_lat:
        print(
            f"during {len(builds)} snapshot rebuilds in another thread (each {statistics.fmean(builds):.1f} s): "
            f"{len(rebuild_lat):,} decisions, p50 {_percentile(rebuild_lat, 0.5):.0f} us, "
            f"p99 {_percentile(rebuild_lat, 0.99):,.0f} us, max {rebuild_lat[-1] / 1000:,.0f} us"
        )
    print(f"full gc.collect() with the snapshot held: {pauses[0]:,.0f} ms; after gc.freeze(): {pauses[1]:,.0f} ms")
    print(f"load average while running: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores shared)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
