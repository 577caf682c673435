"""The serve log in site time (issue 13): every line's time is the site's, labelled with its
UTC offset, so it reads like the pages; without a site timezone it is UTC, labelled so."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sitegate.wiring import SiteTimeFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _line(timezone: str | None, at: datetime, logger: str = "sitegate.serve") -> str:
    record = logging.LogRecord(logger, logging.INFO, __file__, 1, "SiteGate %r: %d gates", ("Demo", 4), None)
    record.created, record.msecs = at.timestamp(), 250.0
    return SiteTimeFormatter(FORMAT, timezone).format(record)


def test_lines_are_in_site_time_with_the_offset() -> None:
    at = datetime(2026, 12, 3, 22, 52, 10, tzinfo=UTC)  # 06:52 the next morning in Shanghai
    assert _line("Asia/Shanghai", at) == "2026-12-04 06:52:10,250 +08:00 INFO sitegate.serve: SiteGate 'Demo': 4 gates"
    # the web server's lines (waitress) go through the same formatter
    assert _line("Asia/Shanghai", at, "waitress").startswith("2026-12-04 06:52:10,250 +08:00 INFO waitress: ")


def test_without_a_site_timezone_the_time_is_labelled_utc() -> None:
    at = datetime(2026, 12, 3, 22, 52, 10, tzinfo=UTC)
    assert _line(None, at).startswith("2026-12-03 22:52:10,250 +00:00 INFO ")
