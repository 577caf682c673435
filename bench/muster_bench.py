"""The muster (R16) with 5,000 people on site, on PostgreSQL: how long ``zones.services.site.muster``
takes (the query and the rows the panel and the handheld render, every 2 s each), and the
panel's and the handheld's muster fragments through the Flask app. Goal: 200 ms (issue 12).

    .venv/bin/python -m bench.muster_bench [--url postgresql+psycopg://postgres@127.0.0.1/sitegate_muster_bench]
        [--people 5000] [--repeat 50]

The database is dropped and made again on every run (migrated by ``zones.db.upgrade``),
then filled in bulk: 50 escorts; 80 % of the people on site employees inside the demo
plant's zones, 16 % visitors inside with an escort, 4 % visitors on site outside the gated
zones, with their host and an approved contact form naming an escort; half of everyone
marked accounted for by an escort (a muster well under way).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import make_url

from zones.db import make_engine, session_factory, upgrade
from zones.schema import ContactForm, Employee, Person, Presence, Visit, Visitor
from zones.services.site import muster

ROOT = Path(__file__).resolve().parents[1]
ESCORTS = 50
ZONES = ("smelting", "assembly")


def _q(ms: list[float]) -> str:
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return f"p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  max {ms[-1]:6.1f} ms"


def _timed(fn: Callable[[], Any], repeat: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock ms per call; the process's CPU ms per call into ``cpu`` (on a shared
    machine the CPU time says what the code costs, the wall time what a user waited)."""
    fn()  # warm: the first call compiles the statements
    out = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
    return out


def _t(model: Any) -> Table:
    return cast(Table, model.__table__)


def _fresh_database(url: str) -> None:
    import psycopg

    u = make_url(url)
    admin = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')


def _fill(sessions: Any, people: int) -> None:
    now = datetime.now(UTC)
    employees_inside = people * 80 // 100
    visitors_inside = people * 16 // 100
    visitors_outside = people - employees_inside - visitors_inside
    with sessions() as s:
        n_staff = ESCORTS + employees_inside
        n_visitors = visitors_inside + visitors_outside
        s.execute(
            insert(_t(Person)),
            [
                {"id": i, "kind": "employee", "name": f"Staff {i:05d}", "phone": f"139{i:08d}"}
                for i in range(1, n_staff + 1)
            ]
            + [
                {"id": n_staff + j, "kind": "visitor", "name": f"Visitor {j:05d}", "phone": f"137{j:08d}"}
                for j in range(1, n_visitors + 1)
            ],
        )
        s.execute(
            insert(_t(Employee)),
            [
                {
                    "id": i,
                    "role": "escort" if i <= ESCORTS else "guard",
                    "department": "steelmaking",
                    "card": f"E{i:09d}",
                }
                for i in range(1, n_staff + 1)
            ],
        )
        visitor_ids = list(range(n_staff + 1, n_staff + n_visitors + 1))
        s.execute(
            insert(_t(Visitor)),
            [{"id": v, "organisation": "Bench", "id_type": "passport", "id_number": f"P{v:08d}"} for v in visitor_ids],
        )

        def escort(k: int) -> int:
            return 1 + k % ESCORTS

        def marked(k: int) -> dict[str, Any]:
            on = k % 2 == 0
            return {"accounted": on, "accounted_by": escort(k) if on else None, "accounted_at": now if on else None}

        inside: list[tuple[int, int | None]] = [(ESCORTS + 1 + k, None) for k in range(employees_inside)]
        inside += [(v, escort(k)) for k, v in enumerate(visitor_ids[:visitors_inside])]
        s.execute(
            insert(_t(Presence)),
            [
                {
                    "person_id": pid,
                    "zone": ZONES[k % 2],
                    "entered_at": now - timedelta(minutes=k % 300),
                    "escort_id": esc,
                }
                | marked(k)
                for k, (pid, esc) in enumerate(inside)
            ],
        )
        s.execute(
            insert(_t(Visit)),
            [
                {
                    "visitor_id": v,
                    "host_id": escort(k),
                    "purpose": "bench",
                    "state": "on-site",
                    "created_at": now,
                    "arrived_at": now - timedelta(minutes=k),
                }
                | marked(k)
                for k, v in enumerate(visitor_ids)
            ],
        )
        s.execute(
            insert(_t(ContactForm)),
            [
                {
                    "visitor_id": v,
                    "escort_id": escort(k),
                    "valid_from": now - timedelta(hours=1),
                    "valid_until": now + timedelta(hours=8),
                    "state": "approved",
                    "created_at": now,
                }
                for k, v in enumerate(visitor_ids)
            ],
        )
        s.execute(text("SELECT setval(pg_get_serial_sequence('persons', 'id'), (SELECT max(id) FROM persons))"))
        s.commit()
        for table in ("persons", "employees", "visitors", "presence", "visits", "contact_forms"):
            s.execute(text(f"ANALYZE {table}"))


def _pages(engine: Any, repeat: int) -> list[tuple[str, list[float]]]:
    """The panel's and the handheld's muster fragments (what live.js fetches every 2 s) as a
    safety officer and an escort, through the Flask app, signed in by its login form."""
    import re
    import tempfile

    from web.app import create_app
    from zones.config import parse_config
    from zones.services import create_user

    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    with session_factory(engine)() as s:
        create_user(s, "Bench Officer", "safety_officer", "steelmaking", password="bench-pass-1")
        create_user(s, "Bench Escort", "escort", "steelmaking", ["smelting"], "E0BENCH01", "bench-pass-2")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        text = (ROOT / "config.toml").read_text(encoding="utf-8")
        text = text.replace('language = "en"', f'language = "en"\nsecret_key_file = "{Path(tmp) / "secret"}"')
        app = create_app(parse_config(text), engine=engine, testing=True)
        for name, password, path in (
            ("Bench Officer", "bench-pass-1", "/panel/muster/live"),
            ("Bench Escort", "bench-pass-2", "/m/muster/live"),
        ):
            client = app.test_client()
            csrf = token.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
            resp = client.post("/login", data={"username": name, "password": password, "csrf_token": csrf})
            assert resp.status_code == 302, resp.text

            def fetch(client: Any = client, path: str = path) -> None:
                resp = client.get(path)
                assert resp.status_code == 200, resp.status_code

            out.append((f"{path} ({name.split()[1].lower()})", _timed(fetch, repeat)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1/sitegate_muster_bench")
    ap.add_argument("--people", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--no-pages", action="store_true", help="time the service only")
    args = ap.parse_args(argv)
    _fresh_database(args.url)
    engine = make_engine(args.url)
    upgrade(engine)
    sessions = session_factory(engine)
    _fill(sessions, args.people)
    with sessions() as s:
        listed = muster(s)
        assert len(listed.rows) == args.people, len(listed.rows)
        print(
            f"{make_url(args.url).database}: {len(listed.rows)} on site, {len(listed.missing)} missing; "
            f"load average {os.getloadavg()[0]:.2f}; {args.repeat} calls each"
        )
        cpu: list[float] = []
        print(f"  muster() service                 {_q(_timed(lambda: muster(s), args.repeat, cpu))}")
        print(f"    its CPU time in this process   {_q(cpu)}")
    if not args.no_pages:
        for label, ms in _pages(engine, args.repeat):
            print(f"  {label:32s} {_q(ms)}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
