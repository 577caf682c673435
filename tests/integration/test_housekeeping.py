"""What `sitegate serve` does in the background: R4 overdue visits are flagged (12 h after
arrival, or 2 h after the site closed), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sitegate.maintenance import last_closing, run_once
from zones.config import parse_config
from zones.db import session_factory
from zones.schema import Visit
from zones.services import book_visit, check_in, create_user, register_visitor

SHANGHAI = timezone(timedelta(hours=8))
CONFIG = parse_config('[site]\ntimezone = "Asia/Shanghai"\ncloses = "18:00"\n')


def test_last_closing_is_in_site_time() -> None:
    assert last_closing(datetime(2026, 11, 24, 19, 0, tzinfo=SHANGHAI), "18:00", "Asia/Shanghai") == datetime(
        2026, 11, 24, 18, 0, tzinfo=SHANGHAI
    )
    assert last_closing(datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI), "18:00", "Asia/Shanghai") == datetime(
        2026, 11, 23, 18, 0, tzinfo=SHANGHAI
    )


def _visit(session: Any, arrived: datetime, number: str) -> int:
    host, _ = create_user(session, f"Host {number}", "escort")
    v = register_visitor(session, name=f"V {number}", id_type="passport", id_number=number)
    visit = book_visit(session, visitor_id=v.id, host_id=host.id, purpose="audit", now=arrived)
    check_in(session, visit.id, number, now=arrived)
    return visit.id


def _flag(session: Any, visit_id: int) -> str | None:
    visit = session.get(Visit, visit_id)
    assert visit is not None
    return visit.flagged


def test_R4_visits_flagged_after_closing_and_after_twelve_hours(engine: Any) -> None:
    with session_factory(engine)() as s:
        morning = _visit(s, datetime(2026, 11, 24, 9, 0, tzinfo=SHANGHAI), "P1000001")
        evening = _visit(s, datetime(2026, 11, 24, 19, 0, tzinfo=SHANGHAI), "P1000002")
    run_once(CONFIG, engine, datetime(2026, 11, 24, 19, 59, tzinfo=SHANGHAI), purge=False)
    with session_factory(engine)() as s:
        assert _flag(s, morning) is None  # closed at 18:00, 2 h not yet over
    run_once(CONFIG, engine, datetime(2026, 11, 24, 20, 1, tzinfo=SHANGHAI), purge=True)
    with session_factory(engine)() as s:
        assert "after the site closed" in (_flag(s, morning) or "")
        assert _flag(s, evening) is None  # arrived after closing: not yet
    run_once(CONFIG, engine, datetime(2026, 11, 25, 7, 1, tzinfo=SHANGHAI), purge=False)
    with session_factory(engine)() as s:
        assert "on site since" in (_flag(s, evening) or "")  # 12 h after arrival
