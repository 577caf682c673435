"""Events at scale on PostgreSQL: the events API, the monthly statistics, the muster and the
handheld lookup, through the services the web calls (zones.services.reports, .site,
.card_check), on a database holding millions of events.

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE plant_events'
    .venv/bin/python -c "from zones.db import make_engine, upgrade; \\
        upgrade(make_engine('postgresql+psycopg://postgres@127.0.0.1/plant_events'))"
    psql -h 127.0.0.1 -U postgres plant_events -v n=10000000 -f bench/events_scale.sql
    .venv/bin/python -m bench.events_scale --url postgresql+psycopg://postgres@127.0.0.1/plant_events

The events are generated in SQL (bench/events_scale.sql: generate_series, ~8 min for
10,000,000 here). This bench adds, once, 5,000 employees through ``create_user`` and puts
them on site by shipping one passage each (``zones.central.ship_events``, as controllers
do), then times: GET /events's query for each filter and for a page further down by the
keyset cursor (p50/p95 over repeats), ``monthly_stats`` for a month, the muster, and
``check_card`` (the handheld lookup) from 50 threads at once, each with its own session:
back to back (every client asking again the moment it has its answer: the throughput
bound), with and without an escort card (the page always sends the escort's own), and
paced (each client asks every ``--pause`` seconds, an escort reading the answer between).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from zones.central import ship_events
from zones.config import parse_config
from zones.db import make_engine, session_factory
from zones.schema import Employee, Presence
from zones.services.card_check import check_card
from zones.services.people import create_user
from zones.services.reports import monthly_stats
from zones.services.reports import query_events as events
from zones.services.site import muster

ON_SITE = 5_000
_ZONES = """
[[zones]]
id = "zone-0"
name = "Zone 0"
department = "ops"
"""


def _timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _q(ms: list[float]) -> str:
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return f"p50 {q[49]:7.1f} ms  p95 {q[94]:7.1f} ms  max {ms[-1]:7.1f} ms"


def _people_on_site(sessions: Any, zones: dict[str, Any]) -> list[str]:
    """5,000 employees inside zone-0 (created and moved once; reused afterwards)."""
    with sessions() as s:
        cards = list(s.scalars(select(Employee.card).where(Employee.name.like("Muster %"))))
        if len(cards) >= ON_SITE:
            return [c for c in cards if c]
        now = datetime.now(UTC)
        passages = []
        for i in range(ON_SITE):
            emp, _ = create_user(
                s, f"Muster {i}", "guard", department="ops", card=f"M{i:09d}", access_zones=["zone-0"], zones=zones
            )
            passages.append(
                {
                    "key": f"muster-{i}",
                    "at": now - timedelta(minutes=i % 600),
                    "gate": "gate-0",
                    "zone": "zone-0",
                    "kind": "passage",
                    "card": emp.card,
                    "person_id": emp.id,
                    "passed": True,
                    "direction": "in",
                }
            )
        s.commit()
        ship_events(s, passages)
        return [f"M{i:09d}" for i in range(ON_SITE)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--month", default="2026-06")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between one client's lookups (paced run)")
    args = ap.parse_args(argv)
    engine = make_engine(args.url, pool_size=args.clients, max_overflow=5)
    sessions = session_factory(engine)
    config = parse_config(f'[site]\ndatabase = "{args.url}"\n{_ZONES}')
    zones = config.zone_map()
    cards = _people_on_site(sessions, zones)
    with sessions() as s:
        total = s.scalar(select(func.count()).select_from(Presence))
    print(f"{args.url.rsplit('/', 1)[1]}: load average {os.getloadavg()[0]:.2f}; {total} people on site")

    rng = random.Random(1)
    with sessions() as s:
        _, cursor = events(s, limit=100)
        assert cursor is not None
        for _ in range(50):  # a page 50 pages down
            _, cursor = events(s, limit=100, cursor=cursor)
        deep = cursor
        month_start = datetime(2026, 6, 1, tzinfo=UTC)
        june: dict[str, Any] = {"since": month_start, "until": month_start + timedelta(days=30), "limit": 100}
        june_gate = {"gate": "gate-11", **june}
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("newest page, no filter", lambda: events(s, limit=100)),
            ("page 51 by the keyset cursor", lambda: events(s, limit=100, cursor=deep)),
            ("one gate", lambda: events(s, gate=f"gate-{rng.randrange(200)}", limit=100)),
            (
                "one gate, page 2",
                lambda: events(s, gate="gate-7", limit=100, cursor=events(s, gate="gate-7", limit=100)[1]),
            ),
            ("one zone", lambda: events(s, zone=f"zone-{rng.randrange(10)}", limit=100)),
            ("one person", lambda: events(s, person_id=rng.randrange(1, 2_000_000), limit=100)),
            ("one card", lambda: events(s, card=f"C{rng.randrange(1, 2_000_000):09d}", limit=100)),
            ("denials", lambda: events(s, allowed=False, limit=100)),
            ("faults (0.5 %)", lambda: events(s, kind="fault", limit=100)),
            ("last 24 h", lambda: events(s, since=datetime(2026, 12, 31, tzinfo=UTC), limit=100)),
            (
                "one day in June",
                lambda: events(s, since=month_start, until=month_start + timedelta(days=1), limit=100),
            ),
            (
                "one gate in June",
                lambda: events(s, gate="gate-3", since=month_start, until=month_start + timedelta(days=30), limit=100),
            ),
            ("one gate in June, page 2", lambda: events(s, **june_gate, cursor=events(s, **june_gate)[1])),
            ("one person in June", lambda: events(s, person_id=rng.randrange(1, 2_000_000), **june)),
        ]
        all_ms: list[float] = []
        print(f"GET /events query (limit 100, {args.repeat} repeats each):")
        for label, fn in cases:
            ms = _timed(fn, args.repeat)
            all_ms += ms
            print(f"  {label:32s} {_q(ms)}")
        print(f"  {'all of the above':32s} {_q(all_ms)}")
        ms = _timed(lambda: monthly_stats(s, args.month), 3)
        print(f"monthly statistics {args.month}:          {_q(ms)}")
        ms = _timed(lambda: muster(s), 10)
        print(f"muster, {total} people on site:      {_q(ms)}")

    policy = config.policy()
    zone = zones["zone-0"]

    def lookups(escort: bool, pause_s: float) -> tuple[list[float], float]:
        """``clients`` threads, each with its own session, looking cards up ``repeat`` times
        (after ``pause_s`` each: an escort reading the answer), with an escort card as the
        handheld page sends one (the signed-in escort's own), or without."""
        out: list[float] = []
        lock = threading.Lock()

        def client(seed: int) -> None:
            r = random.Random(seed)
            with sessions() as s:
                for _ in range(args.repeat):
                    card = r.choice(cards)
                    t = time.perf_counter()
                    check_card(s, [zone], card, r.choice(cards) if escort else None, policy, datetime.now(UTC))
                    s.rollback()
                    with lock:
                        out.append((time.perf_counter() - t) * 1000)
                    time.sleep(pause_s * r.uniform(0.5, 1.5))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out, len(out) / (time.perf_counter() - t0)

    print(f"handheld lookup, {args.clients} concurrent clients (load average {os.getloadavg()[0]:.2f}):")
    for label, escort, pause in (
        ("back to back, no escort card", False, 0.0),
        ("back to back, with an escort card", True, 0.0),
        (f"one a client every ~{args.pause:g} s, escort card", True, args.pause),
    ):
        ms, rate = lookups(escort, pause)
        print(f"  {label:38s} {_q(ms)}  ({rate:.0f} lookups/s)")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
