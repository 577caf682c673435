"""Benchmark data: a migrated SQLite central database holding N cardholders, fast.

The rows are the ones the domain services write (zones/services: create_user,
register_visitor, book_visit, check_in, issue_badge, create/approve_contact_form,
record_education, issue_helmet, report_badge_lost), including the joined-table
Person/Employee/Visitor rows, api tokens, departments, notification cards and one
``changes`` row per service call, in the services' order. Instead of one ORM transaction
per call (hours for 2,000,000 people) they are written with a few INSERT ... SELECT
statements over a table of per-person values; ``bench._dataset_check`` builds the same small
population both ways and compares every table, so the two cannot drift apart unnoticed.

Anchors (one safety officer, an escort pool) are created through the services themselves.
Visitors follow a fixed profile mix (``PROFILES``): most are fully qualified for the
high-risk ``smelting`` zone, a few lack one thing each, so the engine sees real denials.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from zones.calendar import add_months, local
from zones.config import parse_config
from zones.db import make_engine, session_factory, upgrade
from zones.idcard import check_character
from zones.services.education import EDUCATION_TOPICS
from zones.services.people import create_user

TIMEZONE = "Asia/Shanghai"
ZONE = "smelting"  # high-risk, helmet, owned by steelmaking
DEPARTMENT = "steelmaking"
DEPARTMENTS = ("steelmaking", "assembly", "rolling", "maintenance", "logistics")
TOPICS = json.dumps(list(EDUCATION_TOPICS))  # what record_education stores: every R6 topic
EDUCATED_ZONES = json.dumps([ZONE])  # R9: the zones the signed card names
SIGNATURE = "data:image/png;base64,iVBORw0KGgo="
PHONE, ORGANISATION, PURPOSE = "13800138000", "Acme", "audit"
REVOKE_REASON = "plans changed"
# Out of every 100 visitors: 91 fully qualified, 9 denied for one reason each.
PROFILES = (
    "no-helmet",
    "form-pending",
    "education-expired",
    "unsigned",
    "under-age",
    "lost-badge",
    "walk-in",
    "not-checked-in",
    "form-revoked",
)
_ADULT_DAYS = 14_000  # birth dates 1960-01-01 .. 1998-04 (all adults)

CONFIG = """
[site]
name = "Bench plant"
timezone = "Asia/Shanghai"
database = "sqlite:///unused.db"

[[zones]]
id = "smelting"
name = "Smelting workshop"
department = "steelmaking"
risk = "high-risk"
helmet = true
max_occupancy = 100000

[[zones]]
id = "assembly"
name = "Assembly hall"
department = "assembly"

[[gates]]
id = "smelting-east"
zone = "smelting"
direction = "in"
reader = { protocol = "em4100", port = "sim" }
turnstile = { modbus = "sim", unit = 1, release_coil = 0, passage_input = 0 }
"""


def site_config():
    return parse_config(CONFIG, "bench.toml")


@dataclass(frozen=True)
class Population:
    visitors: int
    employees: int = 0  # ordinary staff with their own cards (E1), besides the anchors
    escorts: int = 50  # escort pool (dispatch room, may escort in smelting), via services

    @property
    def name(self) -> str:
        return f"v{self.visitors}-e{self.employees}-x{self.escorts}"


def profile(i: int) -> str:
    """The profile of the i-th visitor (0-based): 'ok' or one of PROFILES."""
    k = i % 100
    return PROFILES[k - 91] if k >= 91 else "ok"


def visitor_values(i: int, today: date) -> tuple[str, date]:
    """(resident id number, birth date) of the i-th visitor; unique for 14M visitors (365k under age)."""
    if profile(i) == "under-age":
        j = i // 100  # the j-th under-age visitor
        birth = date(today.year - 16, 1, 1) + timedelta(days=j % 365)
        serial = (j // 365) % 1000
    else:
        birth = date(1960, 1, 1) + timedelta(days=i % _ADULT_DAYS)
        serial = (i // _ADULT_DAYS) % 1000
    first17 = f"110101{birth:%Y%m%d}{serial:03d}"
    return first17 + check_character(first17), birth


def card_of(person_id: int) -> str:
    return f"{person_id:010X}"  # em4100-like, upper-case hex as the readers report


def employee_values(n: int) -> tuple[str, str, list[str], list[str]]:
    """(name, department, access zones, escort zones) of the n-th bulk employee."""
    dept = DEPARTMENTS[n % len(DEPARTMENTS)]
    access = [ZONE] if n % 2 == 0 else ["assembly"]
    escort = [ZONE] if n % 10 == 0 else []
    return f"Employee {n}", dept, access, escort


def _ts(t: datetime) -> str:
    """How SQLAlchemy's DateTime stores a (UTC) value in SQLite."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class Times:
    """The moments of each service call (one per kind, shared by everyone)."""

    now: datetime

    @property
    def educated(self) -> datetime:
        return self.now - timedelta(hours=1)

    @property
    def educated_expired(self) -> datetime:
        return self.now - timedelta(days=130)  # R8: 3 months ago and more

    @property
    def form_from(self) -> datetime:
        return self.now - timedelta(hours=1)

    @property
    def form_until(self) -> datetime:
        return self.now + timedelta(hours=12)


# -- anchors through the services ---------------------------------------------------------
def create_anchors(engine: Engine, pop: Population) -> tuple[int, list[int]]:
    """The safety officer and the escort pool, created by zones.services (few rows)."""
    zones = site_config().zone_map()
    with session_factory(engine)() as s:
        officer, _ = create_user(s, "Zhao Min", "safety_officer", department=DEPARTMENT, card=card_of(1), zones=zones)
        escorts = []
        for n in range(pop.escorts):
            emp, _ = create_user(
                s,
                f"Escort {n}",
                "escort",
                department=DEPARTMENT,
                escort_zones=[ZONE],
                card=f"E{n:09X}",
                dispatch_room=True,
                zones=zones,
            )
            escorts.append(emp.id)
        return officer.id, escorts


# -- bulk rows ------------------------------------------------------------------------------
def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    # Generator only: no rollback journal, no fsync. The application never runs like this.
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "cache_size=-1000000",
        "temp_store=MEMORY",
        "foreign_keys=OFF",
    ):
        db.execute(f"PRAGMA {pragma}")
    return db


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Statements one by one (executescript would commit the open transaction)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _bulk_employees(db: sqlite3.Connection, pop: Population, t: Times, first_pid: int) -> None:
    """create_user(name, "escort", department, escort_zones, card, access_zones=...)."""
    db.execute("CREATE TEMP TABLE ge (pid INTEGER PRIMARY KEY, name TEXT, dept TEXT, access TEXT, escort TEXT)")
    rows = ((first_pid + n, *_flat(employee_values(n))) for n in range(pop.employees))
    db.executemany("INSERT INTO ge VALUES (?, ?, ?, ?, ?)", rows)
    at = _ts(t.now)
    _script(
        db,
        f"""
        INSERT INTO persons (id, kind, name, phone) SELECT pid, 'employee', name, NULL FROM ge;
        INSERT INTO employees (id, role, department, card, password_hash, language, on_duty, dispatch_room, active)
            SELECT pid, 'escort', dept, printf('%010X', pid), NULL, NULL, 1, 0, 1 FROM ge;
        INSERT INTO employee_escort_zones (employee_id, zone) SELECT pid, escort FROM ge WHERE escort != '';
        INSERT INTO employee_access_zones (employee_id, zone) SELECT pid, access FROM ge WHERE access != '';
        INSERT INTO departments (name) SELECT dept FROM ge WHERE dept NOT IN (SELECT name FROM departments)
            GROUP BY dept ORDER BY min(pid);
        INSERT INTO api_tokens (hash, employee_id, created) SELECT lower(hex(randomblob(32))), pid, '{at}' FROM ge;
        INSERT INTO changes (person_id, what, at) SELECT pid, 'employee', '{at}' FROM ge ORDER BY pid;
        DROP TABLE ge;
    """,
    )


def _flat(v: tuple[str, str, list[str], list[str]]) -> tuple[str, str, str, str]:
    name, dept, access, escort = v
    assert len(access) <= 1 and len(escort) <= 1  # one zone row each keeps the SQL simple
    return name, dept, "".join(access), "".join(escort)


def _bulk_visitors(
    db: sqlite3.Connection, pop: Population, t: Times, first_pid: int, officer: int, escorts: list[int]
) -> None:
    """The plant.People.visitor sequence for every visitor, varied by profile."""
    today = local(t.now, TIMEZONE).date()
    db.execute(
        "CREATE TEMP TABLE gv (i INTEGER PRIMARY KEY, pid INTEGER, prof TEXT, idno TEXT, birth TEXT, escort INTEGER)"
    )
    n_esc = len(escorts)

    def rows():
        for i in range(pop.visitors):
            idno, birth = visitor_values(i, today)
            yield i + 1, first_pid + i, profile(i), idno, birth.isoformat(), escorts[i % n_esc]

    db.executemany("INSERT INTO gv VALUES (?, ?, ?, ?, ?, ?)", rows())
    ok_on = local(t.educated, TIMEZONE).date()
    old_on = local(t.educated_expired, TIMEZONE).date()
    p: dict[str, Any] = {
        "at": _ts(t.now),
        "officer": officer,
        "revoke": REVOKE_REASON,
        "phone": PHONE,
        "org": ORGANISATION,
        "purpose": PURPOSE,
        "zone": ZONE,
        "dept": DEPARTMENT,
        "topics": TOPICS,
        "ezones": EDUCATED_ZONES,
        "sig": SIGNATURE,
        "ffrom": _ts(t.form_from),
        "funtil": _ts(t.form_until),
        "ed_at": _ts(t.educated),
        "ed_on": ok_on.isoformat(),
        "ed_until": add_months(ok_on, 3).isoformat(),
        "ed_keep": add_months(ok_on, 6).isoformat(),
        "old_at": _ts(t.educated_expired),
        "old_on": old_on.isoformat(),
        "old_until": add_months(old_on, 3).isoformat(),
        "old_keep": add_months(old_on, 6).isoformat(),
    }
    statements = [
        # register_visitor
        "INSERT INTO persons (id, kind, name, phone) SELECT pid, 'visitor', 'Visitor ' || printf('%010X', pid),"
        " :phone FROM gv",
        "INSERT INTO visitors (id, organisation, id_type, id_number, birth_date)"
        " SELECT pid, :org, 'resident_id', idno, birth FROM gv",
        # book_visit (+ walk_in: booked_ahead false), check_in
        "INSERT INTO visits (id, visitor_id, host_id, purpose, expected_at, state, booked_ahead, walk_in_approved_by,"
        " walk_in_reason, created_at, arrived_at, closed_at, flagged)"
        " SELECT i, pid, escort, :purpose, NULL, iif(prof = 'not-checked-in', 'booked', 'on-site'),"
        " prof != 'walk-in', NULL, NULL, :at, iif(prof = 'not-checked-in', NULL, :at), NULL, NULL FROM gv",
        # issue_badge (+ report_badge_lost)
        "INSERT INTO badges (id, card, visitor_id, visit_id, state, issued_at, returned_at, lost_at)"
        " SELECT i, printf('%010X', pid), pid, i, iif(prof = 'lost-badge', 'lost', 'active'), :at, NULL,"
        " iif(prof = 'lost-badge', :at, NULL) FROM gv",
        # create_contact_form (+ approve_contact_form unless pending, + revoke_contact_form)
        "INSERT INTO contact_forms (id, visitor_id, escort_id, purpose, valid_from, valid_until, outside_hours, state,"
        " created_by, created_at, approved_by, approved_at, revoked_by, revoked_at, revoke_reason)"
        " SELECT i, pid, escort, :purpose, :ffrom, :funtil, 0, iif(prof = 'form-pending', 'pending', iif(prof = 'form-revoked', 'revoked', 'approved')),"
        " NULL, :at, iif(prof = 'form-pending', NULL, :officer), iif(prof = 'form-pending', NULL, :at),"
        " iif(r, :officer, NULL), iif(r, :at, NULL), iif(r, :revoke, NULL)"
        " FROM (SELECT *, prof = 'form-revoked' AS r FROM gv)",
        "INSERT INTO contact_form_zones (form_id, zone) SELECT i, :zone FROM gv",
        "INSERT INTO contact_form_escorts (form_id, employee_id, substitute) SELECT i, escort, 0 FROM gv",
        "INSERT INTO contact_form_approvals (form_id, department, approved_by, at)"
        " SELECT i, :dept, :officer, :at FROM gv WHERE prof != 'form-pending' ORDER BY i",
        # record_education with its signed notification card; 'unsigned' is a record from
        # before signatures were required (no card, no zones), as an upgraded database holds
        "INSERT INTO education (id, visitor_id, department, method, topics, delivered_at, delivered_on, educator_id,"
        " valid_until, notification_signed, zones)"
        " SELECT i, pid, :dept, 'video', :topics, iif(x, :old_at, :ed_at), iif(x, :old_on, :ed_on), :officer,"
        " iif(x, :old_until, :ed_until), prof != 'unsigned', iif(prof = 'unsigned', '[]', :ezones)"
        " FROM (SELECT *, prof = 'education-expired' AS x FROM gv)",
        "INSERT INTO notification_cards (education_id, signature, signed_at, retain_until)"
        " SELECT i, :sig, iif(x, :old_at, :ed_at), iif(x, :old_keep, :ed_keep)"
        " FROM (SELECT *, prof = 'education-expired' AS x FROM gv) WHERE prof != 'unsigned' ORDER BY i",
        # issue_helmet
        "INSERT INTO helmets (helmet_no, visitor_id, visit_id, issued_at, returned_at)"
        " SELECT 'H-' || printf('%010X', pid), pid, i, :at, NULL FROM gv WHERE prof != 'no-helmet' ORDER BY i",
    ]
    for sql in statements:
        db.execute(sql, {k: v for k, v in p.items() if f":{k}" in sql})
    # One change row per service call, person by person in call order.
    _script(
        db,
        """
        CREATE TEMP TABLE steps (k INTEGER PRIMARY KEY, what TEXT, skip TEXT, only TEXT);
        INSERT INTO steps (what, skip, only) VALUES ('visitor', '', ''), ('visit', '', ''),
            ('visit', 'not-checked-in', ''), ('badge', '', ''), ('badge', '', 'lost-badge'),
            ('form', 'form-pending', ''), ('form', '', 'form-revoked'), ('education', '', ''),
            ('helmet', 'no-helmet', '');
    """,
    )
    db.execute(
        "INSERT INTO changes (person_id, what, at) SELECT g.pid, s.what, :at FROM gv AS g CROSS JOIN steps AS s"
        " WHERE s.skip != g.prof AND (s.only = '' OR s.only = g.prof) ORDER BY g.i, s.k",
        {"at": p["at"]},
    )
    _script(db, "DROP TABLE steps; DROP TABLE gv")


def generate(path: Path, pop: Population, now: datetime | None = None) -> dict[str, float]:
    """Create ``path`` (must not exist): migrate, anchors via services, bulk rows. Returns
    timings in seconds."""
    t = Times(now or datetime.now(UTC))
    timings: dict[str, float] = {}
    started = time.perf_counter()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    officer, escorts = create_anchors(engine, pop)
    engine.dispose()
    timings["migrate+anchors_s"] = time.perf_counter() - started
    db = _connect(path)
    try:
        first_pid = db.execute("SELECT coalesce(max(id), 0) + 1 FROM persons").fetchone()[0]
        db.execute("BEGIN")
        mark = time.perf_counter()
        _bulk_employees(db, pop, t, first_pid)
        timings["employees_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        _bulk_visitors(db, pop, t, first_pid + pop.employees, officer, escorts)
        timings["visitors_s"] = time.perf_counter() - mark
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")  # as the application runs it
    finally:
        db.close()
    timings["total_s"] = time.perf_counter() - started
    return timings


def cached(directory: Path, pop: Population, regenerate: bool = False) -> tuple[Path, dict[str, float] | None]:
    """The database for ``pop`` under ``directory``: generated when missing, stale (its forms
    are valid for 12 h from generation) or ``regenerate``; returns (path, timings or None
    when reused)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"central-{pop.name}.db"
    meta = path.with_suffix(".json")
    if not regenerate and path.exists() and meta.exists():
        made = datetime.fromisoformat(json.loads(meta.read_text())["now"])
        if datetime.now(UTC) - made < timedelta(hours=8):
            return path, None
    for suffix in ("", "-wal", "-shm", ".migrate-lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    now = datetime.now(UTC)
    timings = generate(path, pop, now)
    meta.write_text(json.dumps({"now": now.isoformat(), "population": pop.name, "timings": timings}))
    return path, timings


# -- the same rows in PostgreSQL (bench.plant_load --cardholders) ---------------------------
_KEEP_CHANGES = 1_000  # the change sequence's tail: controllers need its newest number only


def postgres_copy(path: Path, pop: Population, admin: Any) -> str:
    """A PostgreSQL database ``sitegate_bench_<population>`` holding the rows of the SQLite
    database ``path`` (from ``cached``), copied with COPY: created when missing or older than
    that file's generation, then reused (clone it with CREATE DATABASE ... TEMPLATE).
    ``admin(sql)`` runs a statement on the server's ``postgres`` database. Returns its name."""
    import psycopg

    name = "sitegate_bench_" + pop.name.replace("-", "_")
    made = json.loads(path.with_suffix(".json").read_text())["now"]
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT comment FROM bench_made").fetchone() == (made,):
                return name
    except psycopg.Error:
        pass
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{name}"')
    upgrade(make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"))
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # SQLite holds naive UTC text (zones.db)
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'alembic_version'"
            )
        ]
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        conn.execute("SET session_replication_role = replica")  # no FK triggers while copying
        for table in tables:
            cols = [r[1] for r in source.execute(f'PRAGMA table_info("{table}")')]
            select_sql = f'SELECT {", ".join(cols)} FROM "{table}"'
            if table == "changes":
                select_sql += f" WHERE no > (SELECT max(no) FROM changes) - {_KEEP_CHANGES}"
            copied = 0
            with conn.cursor().copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as copy:
                for row in source.execute(select_sql):
                    copy.write_row(row)
                    copied += 1
            if copied:
                print(f"  {table}: {copied:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
        conn.execute("SET session_replication_role = DEFAULT")
        for table in tables:  # serial ids go on after the copied ones
            for seq, col in conn.execute(
                "SELECT pg_get_serial_sequence(%s, a.attname), a.attname FROM pg_attribute a "
                "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                (table, f'"{table}"'),
            ).fetchall():
                if seq:
                    conn.execute(
                        f"SELECT setval('{seq}', coalesce((SELECT max({col}) FROM \"{table}\"), 0) + 1, false)"
                    )
        conn.execute("CREATE TABLE bench_made (comment text)")
        conn.execute("INSERT INTO bench_made VALUES (%s)", (made,))
        conn.commit()
    source.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"  copied into PostgreSQL {name} in {time.perf_counter() - started:.0f} s", flush=True)
    return name
