"""R21-R23 deadlines count working days: Monday to Friday, less holidays, plus adjusted
working days (a worked Saturday)."""

from __future__ import annotations

from datetime import date

import pytest

from zones.config import ConfigError, parse_config
from zones.workdays import WorkCalendar

# 2027-02-06 is a Saturday worked in exchange for the Spring Festival (holidays 2027-02-08..12).
CAL = WorkCalendar(
    holidays=frozenset({date(2027, 1, 1)} | {date(2027, 2, d) for d in range(8, 13)}),
    workdays=frozenset({date(2027, 2, 6)}),
)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2026, 12, 4), 2, date(2026, 12, 8)),  # R21: filed Friday, 2 working days -> Tuesday
        (date(2026, 12, 5), 1, date(2026, 12, 7)),  # a Saturday start counts from Monday
        (date(2026, 12, 7), 3, date(2026, 12, 10)),  # R22: plain week
        (date(2026, 12, 30), 2, date(2027, 1, 4)),  # New Year's Day is a holiday, then a weekend
        (date(2027, 2, 5), 1, date(2027, 2, 6)),  # the adjusted Saturday is worked
        (date(2027, 2, 5), 2, date(2027, 2, 15)),  # ... then the festival week is not
        (date(2027, 2, 7), 0, date(2027, 2, 7)),  # zero days: the day itself
    ],
)
def test_add_working_days_across_weekend_holiday_and_adjusted_saturday(start: date, days: int, due: date) -> None:
    assert CAL.add_working_days(start, days) == due


def test_working_days_between_counts_the_late_days() -> None:
    assert CAL.working_days_between(date(2026, 12, 4), date(2026, 12, 8)) == 2
    assert CAL.working_days_between(date(2026, 12, 8), date(2026, 12, 4)) == 0


def test_negative_days_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(date(2026, 12, 4), -1)


def test_reception_config_builds_the_calendar() -> None:
    config = parse_config(
        '[reception]\nholidays = ["2027-01-01"]\nworkdays = [2027-02-06]\n'
        'routing = { A = "service", B = "hr", C = "pr" }\n'
    )
    cal = config.reception.calendar()
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2027, 2, 6))
    assert config.reception.routing.B == "hr"
    assert config.reception.incident_report_working_days == 2


def test_a_day_both_holiday_and_workday_names_the_key() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config('[reception]\nholidays = ["2027-02-06"]\nworkdays = ["2027-02-06"]\n', "site.toml")
    assert "site.toml: reception.workdays: 2027-02-06 is listed both" in str(err.value)
