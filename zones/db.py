"""Opening the central database: engines, sessions and migrations (alembic, run in-process).

SQLite is the default (WAL, foreign keys on, a busy timeout so concurrent writers wait
instead of failing); PostgreSQL is reached through ``postgresql+psycopg://``. Every command
calls ``upgrade(engine)`` on first use (contract.md), so it is cheap when already at head.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
_PG_MIGRATION_LOCK = 0x5175_6174  # pg_advisory_lock key held while migrating


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite has no time zones: values are stored as naive UTC and given UTC back on load.
    A naive datetime is refused: guessing its zone is how audit records go wrong (R18).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: SiteGate stores aware (UTC) times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe in WAL mode; the controller journal uses FULL
    cur.close()


class _NoResultRows(logging.Filter):
    """SQLAlchemy's DEBUG echo writes every result row, identity numbers and phones included
    (R20); with it on, the statements and timings are still logged, the rows are not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


def _drop_result_rows_from_echo() -> None:
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoResultRows) for f in engine_log.filters):
        engine_log.addFilter(_NoResultRows())


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for ``url``. SQLite: WAL, foreign keys, busy timeout; the parent directory
    of a file path is created (``sqlite:///var/sitegate.db`` works in a fresh checkout).

    ``hide_parameters``: a failed statement's error (and SQL echo) never carries its bound
    values, which are identity and phone numbers (R20) as often as not."""
    u = make_url(url)
    kwargs.setdefault("hide_parameters", True)
    _drop_result_rows_from_echo()
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # A database host that stops answering must not hold a controller's sync (or its
    # clean stop) for the OS's TCP connect timeout of minutes.
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(u, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine``. Objects stay readable after commit (expire_on_commit=False)
    so a service can return what it wrote."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(engine: Engine | None = None) -> Config:
    """An alembic Config pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", "zones:migrations")
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise migrations between processes starting at once (serve + controllers)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (alembic ``upgrade head``). Idempotent and
    cheap when already current."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    with _migration_lock(engine):
        if current_revision(engine) == head:
            return
        log.info("migrating %s to %s", engine.url.render_as_string(hide_password=True), head)
        # Not engine.begin(): alembic owns the transaction, so that a migration may step
        # out of it (0008 builds its PostgreSQL indexes CONCURRENTLY in an autocommit block).
        with engine.connect() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()  # SQLite: alembic opens no transaction of its own (no transactional DDL)
