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
        d for d in diff if isinstance(d, tuple) and d[0] in ("add_table", "remove_table", "add_column", "remove_column")
    ]
    assert structural == []
