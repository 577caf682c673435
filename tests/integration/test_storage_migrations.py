"""Storage: the schema is built by alembic migrations, idempotently, with UTC-aware times
and the guards that keep audit records (R18) and notification cards (R7) unaltered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from zones.db import current_revision, head_revision, make_engine, session_factory, upgrade
from zones.schema import Base, Change, Event


def test_storage_upgrade_builds_every_table_and_is_idempotent(engine):
    assert current_revision(engine) == head_revision()
    upgrade(engine)  # second run: a no-op, not an error
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_storage_upgrade_on_empty_postgres(pg_empty_url):
    engine = make_engine(pg_empty_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        upgrade(engine)
    finally:
        engine.dispose()


def test_storage_relative_sqlite_path_creates_parent_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///var/sub/sitegate.db")
    try:
        upgrade(engine)
        assert (tmp_path / "var" / "sub" / "sitegate.db").exists()
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_storage_times_come_back_aware_utc(session):
    shanghai = timezone(timedelta(hours=8))
    session.add(Change(person_id=None, what="test", at=datetime(2026, 3, 1, 8, 0, tzinfo=shanghai)))
    session.commit()
    session.expire_all()
    at = session.scalars(select(Change.at)).one()
    assert at.tzinfo is not None
    assert at == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert at.utcoffset() == timedelta(0)


def test_storage_naive_datetime_is_refused(session):
    session.add(Change(person_id=None, what="test", at=datetime(2026, 3, 1, 8, 0)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_R18_storage_events_cannot_be_updated_or_deleted(session):
    session.add(Event(key="k1", at=datetime.now(UTC), kind="decision", allowed=False, reasons=[], detail={}))
    session.commit()
    with pytest.raises(IntegrityError, match="R18"):
        session.execute(text("UPDATE events SET allowed = true"))
    session.rollback()
    with pytest.raises(IntegrityError, match="R18"):
        session.execute(text("DELETE FROM events"))
    session.rollback()
    assert session.scalars(select(Event.key)).all() == ["k1"]


def test_storage_session_factory_keeps_objects_readable_after_commit(engine):
    with session_factory(engine)() as s:
        c = Change(person_id=7, what="x", at=datetime.now(UTC))
        s.add(c)
        s.commit()
    assert c.no >= 1 and c.person_id == 7


def test_storage_migrations_match_the_models(engine):
    """Every table and column the models declare exists after the migrations, and no more:
    a model change without its migration fails here, not on a site's database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from zones.schema import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    structural = [
        d
        for d in diff
        if isinstance(d, tuple)
        and d[0] in ("add_table", "remove_table", "add_column", "remove_column", "add_index", "remove_index")
    ]
    assert structural == []


def _migrate(engine, command_fn, revision: str) -> None:
    """alembic upgrade/downgrade on ``engine`` as zones.db.upgrade runs it (alembic owns
    the transaction, so 0008 may build its PostgreSQL indexes CONCURRENTLY)."""
    from zones.db import alembic_config

    with engine.connect() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command_fn(cfg, revision)
        conn.commit()


def _event_indexes(engine) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("events")}


def test_storage_0008_event_time_indexes_upgrade_and_downgrade(engine):
    """GET /events pages by (at, id): 0008 swaps the (x, id) indexes of 0005 for (x, at, id)
    and (at) for (at, id), and back on downgrade, keeping the rows."""
    from alembic import command

    with session_factory(engine)() as s:
        s.add(Event(key="k1", at=datetime.now(UTC), gate="g1", kind="decision", allowed=True, reasons=[], detail={}))
        s.commit()
    filters = ("gate", "zone", "card", "kind", "person_id")
    new = {"ix_events_at_id": ["at", "id"]} | {f"ix_events_{c}_at_id": [c, "at", "id"] for c in filters}
    old = {"ix_events_at": ["at"]} | {f"ix_events_{c}_id": [c, "id"] for c in filters}
    assert _event_indexes(engine).items() >= new.items()
    assert not set(old) & set(_event_indexes(engine))

    _migrate(engine, command.downgrade, "0007_employee_login")
    assert current_revision(engine) == "0007_employee_login"
    assert _event_indexes(engine).items() >= old.items()
    assert not set(new) & set(_event_indexes(engine))

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _event_indexes(engine).items() >= new.items()
    assert not set(old) & set(_event_indexes(engine))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM events")).scalars().all() == ["k1"]


@pytest.mark.postgres
def test_storage_0008_rebuilds_an_index_an_interrupted_build_left_invalid(pg_empty_url):
    """CREATE INDEX CONCURRENTLY that fails leaves an invalid index behind; running the
    migration again drops it and builds it, instead of skipping it as existing."""
    from alembic import command

    engine = make_engine(pg_empty_url)
    try:
        upgrade(engine)
        _migrate(engine, command.downgrade, "0007_employee_login")
        with engine.begin() as conn:  # an index marked invalid, as a failed concurrent build leaves it
            conn.execute(text("CREATE INDEX ix_events_gate_at_id ON events (gate, at, id)"))
            conn.execute(
                text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_events_gate_at_id'::regclass")
            )
        upgrade(engine)
        with engine.connect() as conn:
            valid = conn.execute(
                text("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_events_gate_at_id'::regclass")
            ).scalar()
        assert valid is True
    finally:
        engine.dispose()
