"""Calendar arithmetic the rules depend on: calendar months, ages, local times.

Pure functions; the site's timezone is passed in, never read from the machine.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


def add_months(d: date, months: int) -> date:
    """The same day-of-month ``months`` later, clamped to that month's last day.

    design.md: educated 30 Nov -> valid through 28 Feb (29 Feb in a leap year).
    """
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def age_on(birth: date, on: date) -> int:
    """Completed years of age on ``on`` (an 18th birthday on the day counts as 18, R11).

    Someone born on 29 February turns a year older on 1 March in common years.
    """
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@lru_cache(maxsize=64)
def site_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local(now: datetime, timezone: str) -> datetime:
    """``now`` (aware) as wall-clock time at the site. Raises ValueError for a naive time,
    since a naive time at a gate is a bug, not something to guess about."""
    if now.tzinfo is None:
        raise ValueError("naive datetime: gate decisions need an aware time")
    return now.astimezone(site_zone(timezone))
