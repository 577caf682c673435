"""GET /events pages newest first by (at, id) with a keyset cursor on both (R18, issue 12):
no event skipped or repeated across pages, even when many share one instant or were
shipped late (a higher id with an older time); filters with time windows; cursors of the
old form (``e<id>``, pages by id) still continue, garbage is a 422 naming ``cursor``.
SQLite and PostgreSQL (the ``session`` and ``api`` fixtures are parametrized over both)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from zones.central import ship_events
from zones.errors import ValidationFailed
from zones.services.reports import EventCursor, decode_cursor, encode_cursor, query_events

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def _event(key: str, at: datetime, gate: str = "smelting-east", zone: str = "smelting", **kw: Any) -> dict[str, Any]:
    return {
        "key": key,
        "at": at,
        "gate": gate,
        "zone": zone,
        "controller": "c1",
        "kind": kw.pop("kind", "decision"),
        "card": kw.pop("card", "C1"),
        "person_id": None,
        "escort_id": None,
        "allowed": kw.pop("allowed", True),
        "passed": None,
        "direction": "in",
        "detail": {},
        "reasons": [],
        **kw,
    }


def _all_pages(session: Any, limit: int, **filters: Any) -> tuple[list[str], int]:
    keys: list[str] = []
    cursor: EventCursor | None = None
    pages = 0
    while True:
        page, cursor = query_events(session, limit=limit, cursor=cursor, **filters)
        keys += [e["key"] for e in page]
        pages += 1
        if cursor is None:
            return keys, pages
        assert len(page) == limit


def test_R18_pages_over_events_of_one_instant_skip_and_repeat_nothing(session):
    """Seven events at the same microsecond, and late-shipped ones (shipped after, so a
    higher id, but older): every page size walks each event once, newest time first, the
    same instant by id descending."""
    same = [_event(f"same-{i}", T0) for i in range(7)]
    ship_events(session, [_event("newer", T0 + timedelta(seconds=1)), *same, _event("older", T0 - timedelta(hours=1))])
    ship_events(session, [_event("late", T0 - timedelta(minutes=30))])  # a controller back after a cut
    expected = ["newer", *[f"same-{i}" for i in reversed(range(7))], "late", "older"]
    for limit in (1, 2, 3, 4, 7, 10, 11):
        keys, pages = _all_pages(session, limit)
        assert keys == expected, limit
        assert pages == -(-len(expected) // limit)


def test_R18_a_filter_with_an_old_time_window_pages_within_it(session):
    """One gate in one window: only that gate's events inside [since, until), over pages."""
    events = []
    for i in range(30):
        at = T0 + timedelta(days=i // 3, minutes=i)
        events.append(_event(f"a{i}", at, gate="gate-a", zone="smelting", kind="decision" if i % 2 else "passage"))
        events.append(_event(f"b{i}", at, gate="gate-b", zone="assembly"))
    ship_events(session, events)
    since, until = T0 + timedelta(days=2), T0 + timedelta(days=6)
    keys, _ = _all_pages(session, 4, gate="gate-a", since=since, until=until)
    assert keys == [f"a{i}" for i in reversed(range(6, 18))]
    keys, _ = _all_pages(session, 5, zone="assembly", since=since, until=until)
    assert keys == [f"b{i}" for i in reversed(range(6, 18))]
    keys, _ = _all_pages(session, 3, gate="gate-a", kind="passage", since=since)
    assert keys == [f"a{i}" for i in reversed(range(6, 30)) if i % 2 == 0]
    assert _all_pages(session, 3, gate="gate-a", since=until, until=since) == ([], 1)


def test_R18_an_old_style_cursor_continues_below_its_event(session):
    """A cursor handed out before events were paged by time (``e<id>``): the next page is
    what comes below that event in the new order."""
    ship_events(session, [_event(f"e{i}", T0 + timedelta(minutes=i)) for i in range(6)])
    page, _ = query_events(session, limit=6)
    by_key = {e["key"]: e["id"] for e in page}
    old = base64.urlsafe_b64encode(f"e{by_key['e3']}".encode()).decode().rstrip("=")
    cursor = decode_cursor(old)
    assert cursor == by_key["e3"]
    page, nxt = query_events(session, limit=2, cursor=cursor)
    assert [e["key"] for e in page] == ["e2", "e1"]
    assert nxt is not None and [e["key"] for e in query_events(session, limit=2, cursor=nxt)[0]] == ["e0"]
    with pytest.raises(ValidationFailed) as err:  # an id no event has
        query_events(session, limit=2, cursor=by_key["e5"] + 1000)
    assert [f for f, _ in err.value.fields] == ["cursor"]


def test_a_cursor_round_trips_to_the_microsecond():
    c = EventCursor(datetime(2026, 6, 1, 3, 4, 5, 678901, tzinfo=UTC), 2**63 - 1)
    assert decode_cursor(encode_cursor(c)) == c
    early = EventCursor(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), 1)
    assert decode_cursor(encode_cursor(early)) == early


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


GARBAGE = [
    "garbage!",
    "%%%",
    "e" * 300,
    _b64("e-1"),
    _b64("e" + "9" * 22),
    _b64(f"e{2**63}"),
    _b64("t1.2.3"),
    _b64("t99999999999999999.1"),  # year 5138: a time a datetime holds, so a place (nothing below)
    _b64("t999999999999999999.1"),  # year 33658: past what a datetime holds
    _b64("t-999999999999999999.1"),  # before year 1
    _b64(f"t0.{2**63}"),
    _b64("tabc.1"),
    _b64("x12"),
    _b64("t1.\u0661"),
]


@pytest.mark.parametrize("text", GARBAGE)
def test_a_cursor_this_api_never_handed_out_is_refused(text):
    try:
        got = decode_cursor(text)
    except ValidationFailed as err:
        assert [f for f, _ in err.fields] == ["cursor"]
        return
    # only a well-formed time inside what a datetime holds decodes; it is then just a place
    assert isinstance(got, EventCursor), text
