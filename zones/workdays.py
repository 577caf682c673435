"""The site's working-day calendar (R21-R23): Monday to Friday, less the site's holidays,
plus its adjusted working days (Chinese public holidays move weekends: a Saturday or
Sunday may be worked in exchange for a weekday off).

Pure: dates in, dates out. Every deadline of the reception's procedures is counted with
``WorkCalendar.add_working_days`` from a site-local date (zones.calendar.local).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """``holidays``: weekdays not worked; ``workdays``: weekend days that are worked."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, d: date) -> bool:
        if d in self.workdays:
            return True
        return d.weekday() < _SATURDAY and d not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts, worked
        or not): an incident recorded on Friday with 2 working days is due on Tuesday.
        ``days`` = 0 gives ``start`` itself. Raises ValueError for a negative count."""
        if days < 0:
            raise ValueError(f"working days must not be negative, got {days}")
        d, left = start, days
        while left:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``):
        how late an answer was, in the unit its deadline was set in (R19 answer times)."""
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=n)))
