"""GET /events over HTTP (R18, issue 12): pages by (at, id) through the opaque
``next_cursor``; a cursor of the old form (``e<id>``) gives the page the new cursor gives;
any other cursor is a 422 naming ``cursor``, never a 500. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from tests.integration.test_events_cursor import GARBAGE, T0, _b64, _event


@pytest.mark.parametrize("text", GARBAGE + [_b64("e1"), _b64(f"e{2**63 - 1}"), _b64("t0.1")])
def test_events_api_refuses_a_bad_cursor_with_422_never_500(api: Api, text: str) -> None:
    resp = api.call("GET", "/events", role="guard", query_string={"cursor": text})
    if resp.status_code == 200:  # well-formed: a place in the order (here: nothing below it)
        assert resp.json == {"events": [], "next_cursor": None}
        return
    assert resp.status_code == 422, resp.data
    assert [f["field"] for f in resp.json["fields"]] == ["cursor"]


def test_events_api_pages_by_time_and_takes_an_old_style_cursor(api: Api) -> None:
    """Over HTTP: pages of 2 through five events, two of one instant; then an old-style
    cursor (``e<id>`` of the second event) gives the same next page as the new one."""
    api.ship(
        *[_event(f"k{i}", T0 + timedelta(minutes=min(i, 3))) for i in range(5)],
    )
    seen: list[str] = []
    cursors: list[str] = []
    q: dict[str, Any] = {"limit": 2, "since": (T0 - timedelta(days=1)).isoformat()}
    while True:
        resp = api.call("GET", "/events", role="guard", query_string=q)
        assert resp.status_code == 200, resp.json
        seen += [e["card"] + str(e["id"]) for e in resp.json["events"]]
        if resp.json["next_cursor"] is None:
            break
        cursors.append(resp.json["next_cursor"])
        q["cursor"] = resp.json["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    first = api.call("GET", "/events", role="guard", query_string={"limit": 2}).json["events"]
    old = _b64(f"e{first[1]['id']}")
    by_old = api.call("GET", "/events", role="guard", query_string={"limit": 2, "cursor": old})
    by_new = api.call("GET", "/events", role="guard", query_string={"limit": 2, "cursor": cursors[0]})
    assert by_old.status_code == 200 and by_old.json == by_new.json
