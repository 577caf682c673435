"""Sign-in, tokens, cookies, the secret key and the OpenAPI document (web.auth, web.app)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.integration.api.conftest import Api, site_config

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def web_api(api: Api) -> Api:
    """``api`` with panel passwords for Rita (reception) and Gus (guard)."""
    from zones.services import set_password

    for emp in (api.staff.reception, api.staff.guard):
        set_password(api.session, emp.id, "correct horse")
    return api


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def _login(client: FlaskClient, name: str, password: str, token: str | None = None) -> TestResponse:
    data = {"username": name, "password": password}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/login", data=data)


def test_me(api: Api) -> None:
    resp = api.call("GET", "/me", role="escort")
    assert resp.status_code == 200
    assert resp.json == {
        "id": api.staff.escort.id,
        "name": "Eve Escort",
        "role": "escort",
        "department": "steelmaking",
        "card": "E0000004",
        "escort_zones": ["assembly", "smelting"],
    }


@pytest.mark.parametrize("header", ["Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "bearer  "])
def test_bad_authorization_is_401(api: Api, header: str) -> None:
    resp = api.client.get("/api/v1/me", headers={"Authorization": header})
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"


def test_revoked_token_is_401(api: Api) -> None:
    from zones.services import revoke_token

    assert api.call("GET", "/me", role="guard").status_code == 200
    revoke_token(api.session, api.tokens["guard"])
    assert api.call("GET", "/me", role="guard").status_code == 401


def test_deactivated_employee_token_is_401(api: Api) -> None:
    from zones.services import update_employee

    update_employee(api.session, api.staff.guard.id, active=False)
    assert api.call("GET", "/me", role="guard").status_code == 401


def test_employees_filters(api: Api) -> None:
    resp = api.call("GET", "/employees", query_string={"role": "safety_officer"})
    assert sorted(e["name"] for e in resp.json) == ["Olga Officer", "Sam Officer"]
    resp = api.call("GET", "/employees", query_string={"card": "e0000004"})
    assert [e["id"] for e in resp.json] == [api.staff.escort.id]
    resp = api.call("GET", "/employees", query_string={"department": "steelmaking", "role": "escort"})
    assert sorted(e["name"] for e in resp.json) == ["Eve Escort", "Hank Head"]


def test_login_needs_csrf_and_sets_a_safe_cookie(web_api: Api) -> None:
    client = web_api.app.test_client()
    assert _login(client, "Rita Reception", "correct horse").status_code == 400  # no CSRF token
    resp = _login(client, "Rita Reception", "correct horse", _csrf(client))
    assert resp.status_code == 302
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_wrong_password_is_refused(web_api: Api) -> None:
    client = web_api.app.test_client()
    resp = _login(client, "Rita Reception", "wrong", _csrf(client))
    assert resp.status_code == 401 and "Wrong user name or password" in resp.text


def test_session_cookie_does_not_open_the_api(web_api: Api) -> None:
    """The API is CSRF-exempt, so it must not accept the page session (bearer only)."""
    client = web_api.app.test_client()
    assert _login(client, "Rita Reception", "correct horse", _csrf(client)).status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_logout_needs_csrf(web_api: Api) -> None:
    client = web_api.app.test_client()
    token = _csrf(client)
    _login(client, "Rita Reception", "correct horse", token)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_login_rate_limited_per_ip_and_user(web_api: Api) -> None:
    client = web_api.app.test_client()
    token = _csrf(client)
    codes = [_login(client, "Rita Reception", "wrong", token).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # another user from the same address is not locked out by Rita's attempts
    assert _login(client, "Gus Guard", "correct horse", token).status_code == 302


def test_secure_cookie_when_configured(web_api: Api, tmp_path: Path) -> None:
    from web.app import create_app

    app = create_app(
        site_config(tmp_path, str(web_api.app.extensions["sitegate"].engine.url)),
        engine=web_api.app.extensions["sitegate"].engine,
        testing=True,
        pages=False,
        overrides={"HTTPS": True},
    )
    client = app.test_client()
    resp = _login(client, "Rita Reception", "correct horse", _csrf(client))
    assert "Secure" in resp.headers["Set-Cookie"]


def test_secret_key_generated_0600_and_reused(api: Api, tmp_path: Path) -> None:
    from web.app import create_app

    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = create_app(
        site_config(tmp_path, "sqlite://"), engine=api.app.extensions["sitegate"].engine, testing=True, pages=False
    )
    assert again.config["SECRET_KEY"] == api.app.config["SECRET_KEY"] == path.read_text().strip()
    assert len(again.config["SECRET_KEY"]) >= 32


def test_openapi_document_lists_every_route_from_the_models(api: Api) -> None:
    from web.api import ROUTES

    doc: dict[str, Any] = api.client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    for route in ROUTES:
        op = doc["paths"][route.openapi_path][route.method.lower()]
        assert op["x-roles"], route.endpoint
        assert str(route.status) in op["responses"]
        assert "401" in op["responses"] and "403" in op["responses"]
    visitors = doc["paths"]["/visitors"]["post"]
    assert visitors["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VisitorIn"
    }
    assert set(doc["components"]["schemas"]["VisitorIn"]["required"]) == {"name", "id_type", "id_number"}
    assert visitors["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("ValidationErrorOut")
    events = doc["paths"]["/events"]["get"]
    assert {p["name"] for p in events["parameters"]} == {"since", "until", "gate", "zone", "allowed", "limit", "cursor"}
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', api.client.get("/api/v1/openapi.json").text)
    assert set(refs) <= set(doc["components"]["schemas"])  # every reference resolves


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/somewhere/here?x=1", "/somewhere/here?x=1"),
        ("//evil.example/x", "/login"),
        ("https://evil.example/", "/login"),
        ("javascript:alert(1)", "/login"),
    ],
)
def test_login_next_is_same_site_only(web_api: Api, target: str, expected: str) -> None:
    client = web_api.app.test_client()
    token = _csrf(client)
    resp = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "Gus Guard", "password": "correct horse", "csrf_token": token},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == expected  # /login: the API-only app has no panel home
