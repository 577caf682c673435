"""Snapshot build time and memory at N cardholders (goal: 2,000,000 in <= 1 GiB), and the
time of an incremental refresh after 100 persons changed.

    .venv/bin/python -m bench.snapshot_bench --cardholders 2000000 [--employees 1500000] [--postgres]

The database (bench._dataset: rows as the services write them; N - employees visitors,
each with an open visit, badge, contact form, education and helmet, 9 % of them lacking
one thing; plus 1 officer and 50 escorts) is generated once under --dir and reused.
``--postgres``: the same rows copied into PostgreSQL (bench._dataset.postgres_copy, once),
measured on a clone of that copy (dropped afterwards). Every measurement runs in a fresh
Python subprocess so nothing else blurs it:

- ``measure``: wall time of build_snapshot; RSS (VmRSS from /proc) before and after the
  build with the snapshot held, and the peak RSS during the build (VmHWM, reset before it);
  then, three times in a row, 100 cardholders are changed through zones.services (a
  visitor's helmet issued or returned, an employee's duty flag toggled), each in its own
  commit, and refresh_snapshot is timed and checked to show exactly those changes (at the
  end they are changed back, so a rerun sees the generated data).
- ``tracemalloc`` (skip with --no-tracemalloc): Python-level bytes allocated by the build
  (tracemalloc current = what the snapshot keeps, peak = high-water mark during it).
  Slower: tracing costs time, so its wall time is not reported.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import _dataset
from zones.calendar import local
from zones.db import make_engine, session_factory, upgrade
from zones.snapshot import build_snapshot, refresh_snapshot

MIB = 1024 * 1024


def _status(key: str) -> int:
    """A /proc/self/status value in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def _today() -> Any:
    return local(datetime.now(UTC), _dataset.TIMEZONE).date()


def _toggle(url: str, facts: list[Any]) -> None:
    """Change each person through the services, one commit each (as the web would)."""
    from zones.services.items import issue_helmet, return_helmet
    from zones.services.people import update_employee

    engine = make_engine(url)
    with session_factory(engine)() as s:
        for f in facts:
            if f.kind == "employee":
                update_employee(s, f.person_id, on_duty=not f.on_duty)
            elif f.helmet:
                from sqlalchemy import select

                from zones.schema import Helmet

                helmet_no = s.scalar(
                    select(Helmet.helmet_no).where(Helmet.visitor_id == f.person_id, Helmet.returned_at.is_(None))
                )
                assert helmet_no is not None, "the snapshot says this visitor holds a helmet"
                return_helmet(s, f.person_id, helmet_no)
            else:
                issue_helmet(s, f.person_id, f"H-{f.card}")
    engine.dispose()


def child_measure(url: str, refresh_persons: int, refresh_rounds: int) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions() as s:
        s.execute(build_snapshot.__globals__["select"](1))  # connect and import before measuring
    gc.collect()
    rss0 = _status("VmRSS")
    peak_reset = _reset_peak()
    with sessions() as s:
        started = time.perf_counter()
        snap = build_snapshot(s, _today())
        build_s = time.perf_counter() - started
    hwm = _status("VmHWM")
    gc.collect()
    rss1 = _status("VmRSS")
    kinds = {k: sum(1 for f in snap.by_id.values() if f.kind == k) for k in ("visitor", "employee")}

    rng = random.Random()
    active = [f for f in snap.by_id.values() if f.badge == "active"]
    flips: Counter[int] = Counter()
    refresh_s, wrong, current = [], [], snap
    for _ in range(refresh_rounds):  # a controller refreshes again and again: time each
        chosen = rng.sample(active, refresh_persons)
        _toggle(url, [current.by_id[f.person_id] for f in chosen])
        before = current
        with sessions() as s:
            started = time.perf_counter()
            current = refresh_snapshot(s, current, _today())
            refresh_s.append(time.perf_counter() - started)
        for f in chosen:
            old, new = before.by_id[f.person_id], current.by_id[f.person_id]
            flips[f.person_id] += 1
            if (old.on_duty == new.on_duty) if f.kind == "employee" else (old.helmet == new.helmet):
                wrong.append(f.person_id)
    shared = sum(1 for pid, f in current.by_id.items() if snap.by_id.get(pid) is f)
    with sessions() as s:
        started = time.perf_counter()
        same = refresh_snapshot(s, current, _today())
        noop_s = time.perf_counter() - started
    # back as generated, so a rerun sees the same data
    _toggle(url, [current.by_id[pid] for pid, n in flips.items() if n % 2])
    engine.dispose()
    return {
        "build_s": build_s,
        "rss_before": rss0,
        "rss_after": rss1,
        "hwm": hwm,
        "peak_reset": peak_reset,
        "cards": len(snap.by_card),
        "persons": len(snap.by_id),
        "kinds": kinds,
        "refresh_s": refresh_s,
        "refresh_changed": refresh_persons,
        "refresh_wrong": wrong,
        "refresh_shared": shared,
        "noop_refresh_s": noop_s,
        "noop_same": same is current,
    }


def child_tracemalloc(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    sessions = session_factory(engine)
    with sessions() as s:
        s.execute(build_snapshot.__globals__["select"](1))
    gc.collect()
    tracemalloc.start()
    with sessions() as s:
        snap = build_snapshot(s, _today())
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"current": current, "peak": peak, "cards": len(snap.by_card)}


def _run_child(mode: str, url: str, extra: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.snapshot_bench", "--child", mode, "--url", url, *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cardholders", type=int, default=100_000, help="visitors + employees (besides 51 anchors)")
    ap.add_argument("--employees", type=int, default=0, help="how many of the cardholders are employees")
    ap.add_argument("--refresh-persons", type=int, default=100)
    ap.add_argument("--refresh-rounds", type=int, default=3, help="refreshes in a row, each after its own changes")
    ap.add_argument("--dir", type=Path, default=Path("var/bench"), help="where the database is kept (reused)")
    ap.add_argument("--regen", action="store_true", help="generate the database again")
    ap.add_argument("--no-tracemalloc", action="store_true")
    ap.add_argument("--postgres", action="store_true", help="measure on a PostgreSQL copy of the population")
    ap.add_argument(
        "--verify-dataset",
        action="store_true",
        help="check the bulk generator against the services (small population) and exit",
    )
    ap.add_argument("--child", choices=["measure", "tracemalloc"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child == "measure":
        print(json.dumps(child_measure(args.url, args.refresh_persons, args.refresh_rounds)))
        return 0
    if args.child == "tracemalloc":
        print(json.dumps(child_tracemalloc(args.url)))
        return 0

    if args.verify_dataset:
        args.dir.mkdir(parents=True, exist_ok=True)
        from bench._dataset_check import verify

        problems = verify(args.dir)
        print("\n".join(problems) or "bulk rows == service rows in every table")
        return 1 if problems else 0
    pop = _dataset.Population(visitors=args.cardholders - args.employees, employees=args.employees)
    path, made = _dataset.cached(args.dir, pop, args.regen)
    url = f"sqlite:///{path}"
    upgrade(make_engine(url))
    if args.postgres:
        from bench.plant_load import _admin

        template = _dataset.postgres_copy(path, pop, _admin)
        clone = f"sitegate_snap_{random.getrandbits(24):06x}"
        _admin(f'CREATE DATABASE "{clone}" TEMPLATE "{template}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{clone}"
        try:
            return _measure(args, pop, path, made, url)
        finally:
            _admin(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')
    return _measure(args, pop, path, made, url)


def _measure(args: argparse.Namespace, pop: Any, path: Path, made: Any, url: str) -> int:
    size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); measured on {url}")
    print(
        f"population: {pop.visitors:,} visitors + {pop.employees:,} employees + {pop.escorts + 1} anchors; "
        f"database {path} ({size / MIB:,.0f} MiB, "
        + (
            f"generated in {made['total_s']:.1f} s: {json.dumps({k: round(v, 1) for k, v in made.items()})})"
            if made
            else "reused)"
        )
    )
    m = _run_child(
        "measure", url, ["--refresh-persons", str(args.refresh_persons), "--refresh-rounds", str(args.refresh_rounds)]
    )
    print(f"snapshot: {m['cards']:,} cards, {m['persons']:,} persons {m['kinds']}")
    print(f"build_snapshot: {m['build_s']:.2f} s")
    print(
        f"RSS: {m['rss_before'] / MIB:,.0f} MiB before, {m['rss_after'] / MIB:,.0f} MiB after "
        f"(held snapshot: +{(m['rss_after'] - m['rss_before']) / MIB:,.0f} MiB); peak RSS during the build "
        f"{m['hwm'] / MIB:,.0f} MiB (+{(m['hwm'] - m['rss_before']) / MIB:,.0f} MiB"
        + ("" if m["peak_reset"] else ", VmHWM not reset: process lifetime peak")
        + ")"
    )
    ok = "all correct" if not m["refresh_wrong"] else f"WRONG for persons {m['refresh_wrong'][:10]}"
    rounds = ", ".join(f"{x * 1000:,.0f}" for x in m["refresh_s"])
    print(
        f"refresh_snapshot, {len(m['refresh_s'])} in a row, each after {m['refresh_changed']} persons changed: "
        f"{rounds} ms ({ok}; {m['refresh_shared']:,} facts still shared with the first snapshot); "
        f"with nothing changed: {m['noop_refresh_s'] * 1000:.1f} ms"
    )
    if not args.no_tracemalloc:
        t = _run_child("tracemalloc", url, [])
        print(
            f"tracemalloc: snapshot keeps {t['current'] / MIB:,.0f} MiB, peak during build {t['peak'] / MIB:,.0f} MiB"
        )
    return 1 if m["refresh_wrong"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
