"""The role matrix: every endpoint with every role, allowed or 403 (web.permissions).

``EXPECTED`` is written out by hand, independently of web.permissions, so a change to the
permission table that nobody meant shows up here twice: in the table comparison and in the
calls. Requests carry unknown ids and empty bodies: an allowed role gets past the role check
(404 / 422 / 200, never the table's 403), a refused one gets 403 ``forbidden``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.api.conftest import site_config
from web.permissions import PERMISSIONS, ROLES

ALL = frozenset(ROLES)
A, S, R, E, G = "admin", "safety_officer", "reception", "escort", "guard"

# endpoint -> (method, path with unknown ids, roles allowed)
EXPECTED: dict[str, tuple[str, str, frozenset[str]]] = {
    "me": ("GET", "/me", ALL),
    "employees": ("GET", "/employees", frozenset({A, S, R})),
    "create_visitor": ("POST", "/visitors", frozenset({A, S, R})),
    "get_visitor": ("GET", "/visitors/999999", frozenset({A, S, R, E})),
    "book_visit": ("POST", "/visits", frozenset({A, S, R})),
    "check_in": ("POST", "/visits/999999/check-in", frozenset({A, S, R})),
    "check_out": ("POST", "/visits/999999/check-out", frozenset({A, S, R})),
    "issue_badge": ("POST", "/visits/999999/badge", frozenset({A, S, R})),
    "return_badge": ("POST", "/badges/NOSUCHCARD/return", frozenset({A, S, R})),
    "badge_lost": ("POST", "/badges/NOSUCHCARD/lost", frozenset({A, S, R})),
    "issue_helmet": ("POST", "/helmets/issue", frozenset({A, S, R})),
    "return_helmet": ("POST", "/helmets/return", frozenset({A, S, R})),
    "create_form": ("POST", "/contact-forms", frozenset({A, S, R})),
    # R5: any role may be a department's head; the service decides who approves what
    "approve_form": ("POST", "/contact-forms/999999/approve", ALL),
    "revoke_form": ("POST", "/contact-forms/999999/revoke", ALL),
    "department_head": ("POST", "/departments/steelmaking/head", frozenset({A})),
    "record_education": ("POST", "/education", frozenset({A, S})),
    "education_topics": ("GET", "/education/topics", frozenset({A, S})),
    "check_zone": ("GET", "/zones/smelting/check", ALL),
    "occupants": ("GET", "/zones/smelting/occupants", frozenset({A, S, E, G})),
    "passback_reset": ("POST", "/zones/smelting/passback-reset", frozenset({A, S})),
    "emergency": ("POST", "/emergency", frozenset({A, S})),
    "muster": ("GET", "/muster", frozenset({A, S, E, G})),
    "accounted": ("POST", "/muster/999999/accounted", frozenset({A, S, E, G})),
    "gates": ("GET", "/gates", frozenset({A, S, G})),
    "record_breach": ("POST", "/breaches", frozenset({A, S})),
    "events": ("GET", "/events", frozenset({A, S, G})),
    "monthly": ("GET", "/stats/monthly", frozenset({A, S})),
    "record_incident": ("POST", "/incidents", frozenset({A, S, R})),
    "file_incident_report": ("POST", "/incidents/999999/report", frozenset({A, S, R, E})),
    "admit_inspector": ("POST", "/incidents/999999/admit-inspector", frozenset({A, S})),  # R21 C: R1 + R6
    "list_incidents": ("GET", "/incidents", frozenset({A, S, R, E, G})),
    "register_complaint": ("POST", "/complaints", frozenset({A, S, R})),
    "answer_complaint": ("POST", "/complaints/999999/answer", frozenset({A, S, R, E})),
    "close_complaint": ("POST", "/complaints/999999/close", frozenset({A, S, R, E})),
    "follow_up": ("POST", "/complaints/999999/follow-up", frozenset({A, S, R, E})),
    "list_complaints": ("GET", "/complaints", frozenset({A, S, R, E, G})),
    "export_register": ("GET", "/exports/incidents.xlsx", frozenset({A, S, R})),
    "alerts": ("GET", "/alerts", ALL),  # each sees only the alerts concerning them
    "take_over_alert": ("POST", "/alerts/999999/take-over", frozenset({A, S, E})),  # R10
}


class Matrix:
    def __init__(self, client: FlaskClient, tokens: Mapping[str, str]):
        self.client, self.tokens = client, tokens

    def call(self, endpoint: str, role: str | None) -> Any:
        method, path, _ = EXPECTED[endpoint]
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        body: dict[str, Any] | None = {} if method == "POST" else None
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, json=body)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One app for the whole matrix: none of its requests changes anything."""
    from web.app import create_app
    from zones.db import make_engine, session_factory, upgrade
    from zones.services import create_user

    tmp: Path = tmp_path_factory.mktemp("matrix")
    engine = make_engine(f"sqlite:///{tmp / 'matrix.db'}")
    try:
        upgrade(engine)
        with session_factory(engine)() as s:
            tokens: dict[str, str] = {
                role: create_user(s, f"{role} user", role, department="steelmaking")[1] for role in ROLES
            }
        app = create_app(site_config(tmp, str(engine.url)), engine=engine, testing=True, pages=False)
        yield Matrix(app.test_client(), tokens)
    finally:
        engine.dispose()


def test_every_route_is_in_the_expected_table() -> None:
    from web.api import ROUTES

    assert {r.endpoint for r in ROUTES} == set(EXPECTED)


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_permission_table_matches_expected(endpoint: str) -> None:
    from web.api import ROUTES

    route = next(r for r in ROUTES if r.endpoint == endpoint)
    method, path, roles = EXPECTED[endpoint]
    assert route.method == method
    table = ALL if route.permission is None else PERMISSIONS[route.permission]
    assert table == roles, f"{endpoint}: permission {route.permission} allows {sorted(table)}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_role_matrix(matrix: Matrix, endpoint: str, role: str) -> None:
    resp = matrix.call(endpoint, role)
    if role in EXPECTED[endpoint][2]:
        assert resp.status_code != 401
        assert not (resp.status_code == 403 and resp.json["error"] == "forbidden"), resp.json
        assert resp.status_code in (200, 404, 409, 422), resp.json
    else:
        assert resp.status_code == 403, resp.json
        assert resp.json["error"] == "forbidden"
        assert role in resp.json["message"]


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_no_token_is_401_everywhere(matrix: Matrix, endpoint: str) -> None:
    resp = matrix.call(endpoint, None)
    assert resp.status_code == 401
    assert resp.json["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
