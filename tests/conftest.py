"""Fixtures shared by every test: databases built from migrations, on SQLite and PostgreSQL.

- ``db_url`` is parametrized over ``sqlite`` (a file in tmp_path) and ``postgres`` (a fresh
  database per test, cloned from one migrated template database per test run and dropped
  afterwards). PostgreSQL is skipped when 127.0.0.1:5432 does not answer, except under
  ``CI=true``, where a missing PostgreSQL fails the run.
- ``engine`` is migrated with ``zones.db.upgrade`` (alembic upgrade head, never create_all);
  ``session`` is a Session on it.
- ``make_zones()`` / ``demo_zones``: the demo plant's zones from config.toml.
- Every test (autouse): fails when it leaves a new non-daemon thread or a SiteGate thread
  (gate, controller, housekeeping, card reader, OSDP, simulator) running (``no_thread_leak``,
  pymodbus's ``system_health_check`` idea); new passwords are hashed with argon2's cheapest
  parameters (the tests check who may sign in, not what a hash costs).

Keep this file generic; parts add their own fixtures in tests/<kind>/conftest.py.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_DSN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
DEMO_PASSWORD = "correct horse battery"


# Names of the threads SiteGate and its simulators start (controller/, hardware/, sitegate/):
# daemon or not, a test must not leave one running.
SITEGATE_THREAD_PREFIXES = (
    "gate-",
    "controller-",
    "housekeeping",
    "reader-",
    "osdp",
    "turnstile-sim",
    "pty-bridge",
    "sim-control",
)


# Idle workers of an event loop's default executor (Playwright's loop lives for the whole
# run and starts them lazily, during whichever browser test comes first).
EVENT_LOOP_WORKER_PREFIX = "asyncio_"


def _must_stop(thread: threading.Thread) -> bool:
    if thread.name.startswith(SITEGATE_THREAD_PREFIXES):
        return True
    return not thread.daemon and not thread.name.startswith(EVENT_LOOP_WORKER_PREFIX)


@pytest.fixture(autouse=True)
def no_thread_leak() -> Iterator[None]:
    """Fail a test that leaves a new non-daemon or SiteGate thread running (3 s grace to stop)."""
    before = set(threading.enumerate())
    yield

    def leaked() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in before and t.is_alive() and _must_stop(t)]

    deadline = time.monotonic() + 3.0
    while leaked() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not leaked(), f"threads left running: {[t.name for t in leaked()]}"


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> None:
    from argon2.profiles import CHEAPEST

    from zones.services.people import configure_password_hashing

    configure_password_hashing(CHEAPEST)


def make_zones() -> dict:  # dict[str, zones.facts.Zone]
    """The demo plant's zones (config.toml at the repository root), by id."""
    from zones.config import parse_config

    return parse_config((ROOT / "config.toml").read_text(encoding="utf-8")).zone_map()


def postgres_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def pg_url(dbname: str) -> str:
    return f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{dbname}"


def pg_admin(sql: str) -> None:
    """Run one statement on the ``postgres`` database outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def require_postgres() -> None:
    """Skip without PostgreSQL, but fail under CI=true: CI must exercise PostgreSQL."""
    if postgres_answers():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but PostgreSQL does not answer on {PG_HOST}:{PG_PORT}")
    pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """One migrated database per test run (``sitegate_test_<pid>_<random>``), used as the
    template each PostgreSQL test clones; dropped at the end."""
    require_postgres()
    from zones.db import make_engine, upgrade

    name = f"sitegate_test_{os.getpid()}_{secrets.token_hex(4)}"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        engine = make_engine(pg_url(name))
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield name
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_empty_url() -> Iterator[str]:
    """An empty throwaway PostgreSQL database (for migration tests), dropped afterwards."""
    require_postgres()
    name = f"sitegate_test_{os.getpid()}_{secrets.token_hex(4)}_empty"
    pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of its own for this test. SQLite: an empty file (``engine`` migrates
    it). PostgreSQL: a clone of the migrated template, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sitegate.db'}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"{template}_{secrets.token_hex(3)}"
    pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield pg_url(name)
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url``, migrated to head (alembic, as every command does)."""
    from zones.db import make_engine, upgrade

    eng = make_engine(db_url)
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A Session on the migrated ``engine``; closed (and rolled back) after the test."""
    from zones.db import session_factory

    with session_factory(engine)() as s:
        yield s


@pytest.fixture
def demo_zones() -> dict:
    """The demo plant's zones by id (see make_zones)."""
    return make_zones()


@pytest.fixture
def demo_staff(session: Session) -> SimpleNamespace:
    """Employees of the demo plant, created through zones.services.create_user:
    admin, reception, guard, a safety officer of each demo department (assembly,
    steelmaking), the head of steelmaking, and an escort for both zones (with a card).
    Returns a SimpleNamespace of Employee rows; ``.tokens`` maps attribute name -> API token.
    Only ``admin`` has a panel password (``DEMO_PASSWORD``)."""
    from zones.services import create_user, set_department_head

    ns = SimpleNamespace(tokens={})
    for attr, name, role, dept, escort, card in [
        ("admin", "Ada Admin", "admin", None, (), None),
        ("reception", "Rita Reception", "reception", None, (), None),
        ("guard", "Gus Guard", "guard", None, (), None),
        ("officer_assembly", "Olga Officer", "safety_officer", "assembly", ("assembly",), "E0000001"),
        ("officer_steel", "Sam Officer", "safety_officer", "steelmaking", ("smelting",), "E0000002"),
        ("head_steel", "Hank Head", "escort", "steelmaking", (), "E0000003"),
        ("escort", "Eve Escort", "escort", "steelmaking", ("assembly", "smelting"), "E0000004"),
    ]:
        emp, token = create_user(
            session,
            name,
            role,
            department=dept,
            escort_zones=escort,
            card=card,
            password=DEMO_PASSWORD if role == "admin" else None,
        )
        setattr(ns, attr, emp)
        ns.tokens[attr] = token
    set_department_head(session, "steelmaking", ns.head_steel.id)
    return ns
