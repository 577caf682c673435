"""R10 custody on the pages, through Flask's test client (SQLite and PostgreSQL): the escort
who left sees the unescorted alert on the handheld and hands the visitor over by the new
escort's card (a POST with the CSRF token); a wrong card is said on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_pages_client import USERS, as_user, make_app, visitor_with_visit
from zones.schema import Alert, Presence


@pytest.fixture
def staff(session: Any) -> dict[str, int]:
    from zones.services import create_user

    ids = {}
    for key in ("officer", "escort", "guard"):
        u = USERS[key]
        # dispatch room: the officer's take-over at night (R14) must not make the test depend on the clock
        emp, _ = create_user(
            session, u.name, u.role, u.department, list(u.escort_zones), u.card, u.password, dispatch_room=True
        )
        ids[key] = emp.id
    return ids


@pytest.fixture
def app(engine: Any, tmp_path: Path, staff: dict[str, int]) -> Any:
    return make_app(engine, tmp_path)


def left_unescorted(session: Any, escort_id: int) -> tuple[int, int]:
    """Visitor Chen Jing inside smelting, whose escort walked out; returns (visitor, alert)."""
    from zones.central import ship_events

    visitor, _ = visitor_with_visit(session, escort_id)
    now = datetime.now(UTC)
    passage = {"zone": "smelting", "kind": "passage", "passed": True, "allowed": True}
    ship_events(
        session,
        [
            {**passage, "key": "v-in", "at": now, "person_id": visitor, "escort_id": escort_id, "direction": "in"},
            {**passage, "key": "e-in", "at": now, "person_id": escort_id, "direction": "in"},
            {**passage, "key": "e-out", "at": now + timedelta(seconds=9), "person_id": escort_id, "direction": "out"},
            {"key": "e-left", "at": now + timedelta(seconds=9), "zone": "smelting", "kind": "alert",
             "person_id": escort_id, "escort_id": escort_id,
             "detail": {"alert": "unescorted", "visitors": [visitor], "department": "steelmaking"}},
        ],
    )  # fmt: skip
    alert = session.query(Alert).filter_by(person_id=visitor).one()
    return visitor, alert.id


def test_escort_who_left_hands_the_visitor_over_by_card_r10(app: Any, session: Any, staff: dict[str, int]) -> None:
    visitor, alert_id = left_unescorted(session, staff["escort"])
    client, token = as_user(app, "escort")
    page = client.get("/m/alerts").text
    assert "Chen Jing" in page and f'data-test="escort-card-{alert_id}"' in page

    refused = client.post(
        f"/m/alerts/{alert_id}/take-over",
        data={"csrf_token": token, "escort_card": "0EFFFFFFFF"},
        follow_redirects=True,
    )
    assert "no active employee holds card 0EFFFFFFFF" in refused.text and "Chen Jing" in refused.text
    assert (
        client.post(f"/m/alerts/{alert_id}/take-over", data={"escort_card": USERS["officer"].card}).status_code == 400
    )

    done = client.post(
        f"/m/alerts/{alert_id}/take-over",
        data={"csrf_token": token, "escort_card": str(USERS["officer"].card).lower()},
        follow_redirects=True,
    )
    assert f"in the charge of {USERS['officer'].name}" in done.text and 'data-test="no-alerts"' in done.text
    session.expire_all()
    presence = session.get(Presence, visitor)
    assert presence is not None and presence.escort_id == staff["officer"]
    alert = session.get(Alert, alert_id)
    assert alert is not None and alert.state == "closed" and alert.closed_by == staff["escort"]


def test_dashboard_lists_open_alerts_for_the_zones_officer_only(app: Any, session: Any, staff: dict[str, int]) -> None:
    left_unescorted(session, staff["escort"])
    officer, _ = as_user(app, "officer")
    dashboard = officer.get("/panel/").text
    assert 'data-test="open-alerts"' in dashboard and "Chen Jing" in dashboard and USERS["escort"].name in dashboard
    guard, _ = as_user(app, "guard")  # no department: not concerned
    assert "Chen Jing" not in guard.get("/m/alerts").text
