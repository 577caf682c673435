"""Reading the records: gate events with filters and a cursor (R18), monthly statistics (R19)."""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import false, func, literal, select, tuple_
from sqlalchemy.orm import Session

from zones.errors import Problem, ValidationFailed
from zones.schema import Alert, Breach, Education, Employee, Event, Visit
from zones.services._common import aware
from zones.services.reception_stats import reception_stats
from zones.workdays import WorkCalendar

MAX_LIMIT = 1000
EVENT_ID_MAX = 2**63 - 1  # events.id is a BIGINT

# GET /events reads these columns (no ORM objects: a page is a hundred plain rows).
_EVENT_COLUMNS = (
    Event.id,
    Event.key,
    Event.at,
    Event.gate,
    Event.zone,
    Event.controller,
    Event.kind,
    Event.card,
    Event.person_id,
    Event.escort_id,
    Event.allowed,
    Event.reasons,
    Event.passed,
    Event.direction,
    Event.detail,
)


class EventCursor(NamedTuple):
    """Where the next (older) page of GET /events starts: below this event in the order
    ``(at, id)`` newest first. Time first, so a filter with an old time window is one index
    range (``(gate, at, id)`` and the like, migration 0008_event_time_indexes); the id
    breaks ties between events of the same instant, so no event is skipped or repeated."""

    at: datetime
    id: int


def encode_cursor(cursor: EventCursor) -> str:
    """Opaque to clients: they pass back what they were given. ``t<microseconds since the
    epoch, UTC>.<id>`` in URL-safe base64."""
    micros = (cursor.at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"t{micros}.{cursor.id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> EventCursor | int:
    """A cursor handed out by :func:`encode_cursor`, or an event id for a cursor of the
    old form ``e<id>`` (pages ordered by id alone, before 0008_event_time_indexes), which
    ``query_events`` continues below that event. Anything else: ValidationFailed on
    ``cursor`` (422)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        if raw.startswith("e") and _DIGITS.fullmatch(raw[1:]):
            event_id = int(raw[1:])
            if event_id <= EVENT_ID_MAX:
                return event_id
        elif raw.startswith("t") and (m := _NEW.fullmatch(raw[1:])):
            at = _EPOCH + timedelta(microseconds=int(m.group(1)))  # OverflowError out of range
            event_id = int(m.group(2))
            if event_id <= EVENT_ID_MAX:
                return EventCursor(at, event_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        pass
    raise ValidationFailed([("cursor", Problem("cursor"))])


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIGITS = re.compile(r"[0-9]{1,19}")
_NEW = re.compile(r"(-?[0-9]{1,18})\.([0-9]{1,19})")


def query_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    gate: str | None = None,
    zone: str | None = None,
    allowed: bool | None = None,
    kind: str | None = None,
    person_id: int | None = None,
    card: str | None = None,
    limit: int = 100,
    cursor: EventCursor | int | None = None,
) -> tuple[list[dict[str, Any]], EventCursor | None]:
    """Events newest first (by time, then id), filtered; ``since`` inclusive, ``until``
    exclusive. Returns ``(events, next_cursor)``: pass next_cursor back as ``cursor`` for
    the next (older) page; it is None on the last page. An int cursor is an event id (an
    old-style cursor, see :func:`decode_cursor`)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed([("limit", Problem("limit-range", max=MAX_LIMIT))])
    if isinstance(cursor, int):
        cursor = _cursor_of_event(session, cursor)
    q = select(*_EVENT_COLUMNS)
    if since is not None:
        q = q.where(Event.at >= aware(since, "since"))
    if until is not None:
        q = q.where(Event.at < aware(until, "until"))
    for column, value in (
        (Event.gate, gate),
        (Event.zone, zone),
        (Event.allowed, allowed),
        (Event.kind, kind),
        (Event.person_id, person_id),
        (Event.card, card),
    ):
        if value is not None:
            q = q.where(column == value)
    if cursor is not None:
        # a row comparison: PostgreSQL bounds the (x, at, id) index scan with it directly
        q = q.where(
            tuple_(Event.at, Event.id) < tuple_(literal(cursor.at, Event.at.type), literal(cursor.id, Event.id.type))
        )
    rows = session.execute(q.order_by(Event.at.desc(), Event.id.desc()).limit(limit + 1)).mappings().all()
    more = len(rows) > limit
    page = [dict(r) for r in rows[:limit]]
    return page, (EventCursor(page[-1]["at"], page[-1]["id"]) if more else None)


def _cursor_of_event(session: Session, event_id: int) -> EventCursor:
    """An old-style cursor (an event id) as the (at, id) of that event."""
    at = session.scalar(select(Event.at).where(Event.id == event_id)) if 0 < event_id <= EVENT_ID_MAX else None
    if at is None:
        raise ValidationFailed([("cursor", Problem("cursor"))])
    return EventCursor(at, event_id)


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_bounds(month: str, timezone: str = "UTC") -> tuple[datetime, datetime]:
    """The start and end (exclusive) of ``YYYY-MM`` in the site's timezone, as aware times."""
    m = _MONTH.match(month)
    # year 1's start and year 9999's end cannot be shifted to UTC: months of years 2-9998 can
    if not m or not 2 <= int(m.group(1)) <= 9998:
        raise ValidationFailed([("month", Problem("month"))])
    year, mon = int(m.group(1)), int(m.group(2))
    tz = ZoneInfo(timezone)
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return start, end


def monthly_stats(
    session: Session, month: str, timezone: str = "UTC", calendar: WorkCalendar | None = None
) -> dict[str, Any]:
    """R19: for ``YYYY-MM`` (site timezone): visits booked, arrived and closed, denials by
    rule (a denial failing two rules counts once for each), breaches by severity, rule,
    R13 prohibition and escort in charge, education records by method, unescorted alerts."""
    start, end = month_bounds(month, timezone)

    def count(column: Any) -> int:
        return int(session.scalar(select(func.count()).where(column >= start, column < end)) or 0)

    denials: Counter[str] = Counter()
    denied_total = 0
    for reasons in session.scalars(
        # "allowed = false", not "IS false": the partial index's own predicate, which
        # PostgreSQL must match to read the month's denials from ix_events_denials_at alone
        select(Event.reasons).where(
            Event.kind == "decision", Event.allowed == false(), Event.at >= start, Event.at < end
        )
    ):
        denied_total += 1
        denials.update({r.get("rule", "?") for r in reasons or [] if isinstance(r, dict)})
    breaches = session.execute(
        select(Breach.severity, Breach.rule, func.count())
        .where(Breach.at >= start, Breach.at < end)
        .group_by(Breach.severity, Breach.rule)
    ).all()
    by_sev: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    for sev, rule, n in breaches:
        by_sev[sev] += n
        by_rule[rule] += n
    educations = dict(
        session.execute(
            select(Education.method, func.count())
            .where(Education.delivered_at >= start, Education.delivered_at < end)
            .group_by(Education.method)
        ).all()
    )
    return {
        "month": month,
        "visits": {
            "booked": count(Visit.created_at),
            "arrived": count(Visit.arrived_at),
            "closed": count(Visit.closed_at),
        },
        "denials": {"total": denied_total, "by_rule": dict(sorted(denials.items()))},
        "breaches": {
            "total": sum(by_sev.values()),
            "by_severity": dict(by_sev),
            "by_rule": dict(sorted(by_rule.items())),
            **breach_accountability(session, start, end),
        },
        "educations": {"total": sum(educations.values()), "by_method": {k: int(v) for k, v in educations.items()}},
        **reception_stats(session, start, end, calendar or WorkCalendar(), timezone),  # R21-R23
        "alerts": {"unescorted": unescorted_alerts(session, start, end)},
    }


def breach_accountability(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """R19 for the chain of responsibility: breaches in [start, end) by R13 prohibition
    ("1"-"7") and by the escort in charge (R17), most breaches first."""
    by_prohibition = session.execute(
        select(Breach.prohibition, func.count())
        .where(Breach.at >= start, Breach.at < end, Breach.prohibition.is_not(None))
        .group_by(Breach.prohibition)
    ).all()
    by_escort = session.execute(
        select(Breach.escort_id, Employee.name, func.count())
        .join(Employee, Employee.id == Breach.escort_id)
        .where(Breach.at >= start, Breach.at < end)
        .group_by(Breach.escort_id, Employee.name)
    ).all()
    return {
        "by_prohibition": {str(p): int(n) for p, n in sorted(by_prohibition)},
        "by_escort": [
            {"escort_id": eid, "name": name, "count": int(n)}
            for eid, name, n in sorted(by_escort, key=lambda r: (-r[2], r[1]))
        ],
    }


def unescorted_alerts(session: Session, start: datetime, end: datetime) -> int:
    """R19: "unescorted" alerts (R10) opened in [start, end)."""
    return int(
        session.scalar(
            select(func.count()).where(Alert.kind == "unescorted", Alert.opened_at >= start, Alert.opened_at < end)
        )
        or 0
    )
