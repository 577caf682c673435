"""Accounts through the pages (issue 10, finding 6): sessions that end on sign-out, password
change and idleness; sign-in limits per address and per account behind a configured proxy
count; the users pages; expiring tokens; and the security headers of every response
(finding 8). Flask's test client, SQLite."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.e2e.conftest import ROOT
from tests.e2e.test_pages_client import TOKEN, USERS, as_user, staff  # noqa: F401  (fixture)
from zones.config import parse_config

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

NEW_PASSWORD = "a brand new passphrase"
ADMIN = ("Ma Admin", "admin-pass-123")


def make_app(engine: Any, tmp_path: Path, web: str = "") -> Any:
    from web.app import create_app

    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace('language = "en"', f'language = "en"\nsecret_key_file = "{tmp_path / "secret"}"')
    )
    return create_app(parse_config(text + (f"\n[web]\n{web}\n" if web else "")), engine=engine, testing=True)


@pytest.fixture
def app(engine: Any, tmp_path: Path, staff: dict[str, int], session: Any) -> Any:  # noqa: F811
    from zones.services import create_user

    create_user(session, ADMIN[0], "admin", password=ADMIN[1])
    return make_app(engine, tmp_path)


def _sign_in(client: FlaskClient, name: str, password: str, addr: str = "127.0.0.1", **headers: str) -> int:
    token = TOKEN.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": addr},
        headers=headers,
    )
    return resp.status_code


def _signed_in(client: FlaskClient) -> bool:
    resp = client.get("/panel/visitors")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def _admin(app: Any) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert _sign_in(client, *ADMIN) == 302
    return client, TOKEN.search(client.get("/panel/users").text).group(1)  # type: ignore[union-attr]


# ---- sessions ------------------------------------------------------------------------


def test_a_cookie_replayed_after_sign_out_is_refused(app: Any) -> None:
    client, token = as_user(app, "desk")
    cookie = client.get_cookie("session")
    assert cookie is not None and _signed_in(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    resp = thief.get("/panel/visitors")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_changing_the_own_password_ends_the_other_sessions_only(app: Any) -> None:
    here, token = as_user(app, "desk")
    there, _ = as_user(app, "desk")
    page = here.get("/panel/account/password")
    assert page.status_code == 200 and "at least 12 characters" in page.text
    form = {"csrf_token": token, "current_password": "wrong one", "password": NEW_PASSWORD}
    resp = here.post("/panel/account/password", data={**form, "password_again": NEW_PASSWORD})
    assert resp.status_code == 400 and "the current password is wrong" in resp.text
    form["current_password"] = USERS["desk"].password
    resp = here.post("/panel/account/password", data={**form, "password": "short", "password_again": "short"})
    assert resp.status_code == 400 and "at least 12 characters" in resp.text
    resp = here.post("/panel/account/password", data={**form, "password_again": "another one entirely"})
    assert resp.status_code == 400 and "the two passwords differ" in resp.text
    assert _signed_in(there)
    resp = here.post("/panel/account/password", data={**form, "password_again": NEW_PASSWORD})
    assert resp.status_code == 302
    assert _signed_in(here) and not _signed_in(there)
    assert _sign_in(app.test_client(), USERS["desk"].name, USERS["desk"].password) == 401
    assert _sign_in(app.test_client(), USERS["desk"].name, NEW_PASSWORD) == 302


def test_an_idle_session_ends(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = as_user(app, "desk")
    start = time.time()
    monkeypatch.setattr("web.auth._clock", lambda: start + 29 * 60)
    assert _signed_in(client)  # used within 30 minutes: goes on, and counts as use
    monkeypatch.setattr("web.auth._clock", lambda: start + 58 * 60)
    assert _signed_in(client)
    monkeypatch.setattr("web.auth._clock", lambda: start + 89 * 60)
    assert not _signed_in(client)


def test_an_unknown_name_costs_a_password_hash_check(session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown names must not answer faster than known ones (user enumeration)."""
    from zones.services import people

    calls: list[str] = []
    real = people._hasher

    class Counting:
        def verify(self, hash: str, password: str) -> bool:
            calls.append(hash)
            return real.verify(hash, password)

        def hash(self, password: str) -> str:
            return real.hash(password)

    monkeypatch.setattr(people, "_hasher", Counting())
    monkeypatch.setattr(people, "_dummy_hash", None)
    assert people.authenticate_password(session, "Nobody At All", "whatever it is") is None
    assert len(calls) == 1 and calls[0].startswith("$argon2")


# ---- sign-in limits ------------------------------------------------------------------


def test_successful_sign_ins_do_not_count(app: Any) -> None:
    name, password = USERS["desk"].name, USERS["desk"].password
    assert [_sign_in(app.test_client(), name, password) for _ in range(6)] == [302] * 6
    client = app.test_client()
    assert [_sign_in(client, name, "wrong") for _ in range(6)] == [401] * 5 + [429]


def test_one_account_is_limited_across_addresses(app: Any) -> None:
    client = app.test_client()
    codes = [_sign_in(client, USERS["desk"].name, "wrong", addr=f"10.0.0.{i}") for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert _sign_in(client, USERS["officer"].name, USERS["officer"].password, addr="10.0.0.9") == 302


def test_spraying_names_from_one_address_is_limited(app: Any) -> None:
    client = app.test_client()
    codes = [_sign_in(client, f"user{i}", "Winter2026!") for i in range(21)]
    assert codes == [401] * 20 + [429]


def test_the_limit_keys_on_the_client_behind_the_configured_proxies(engine: Any, tmp_path: Path) -> None:
    direct = make_app(engine, tmp_path)
    behind = make_app(engine, tmp_path, "proxies = 1")
    for app, expected in ((direct, 429), (behind, 401)):
        client = app.test_client()
        codes = [
            _sign_in(client, f"user{i}", "wrong", addr="192.168.0.1", **{"X-Forwarded-For": f"10.1.0.{i}"})
            for i in range(21)
        ]
        # direct: the header is ignored, every attempt comes from the proxy's address
        assert codes[-1] == expected and codes[:20] == [401] * 20


# ---- the administrator's pages -------------------------------------------------------


def test_only_the_administrator_manages_users(app: Any) -> None:
    officer, _ = as_user(app, "officer")
    assert officer.get("/panel/users").status_code == 403
    admin, _ = _admin(app)
    page = admin.get("/panel/users").text
    assert all(u.name in page for u in USERS.values())


def test_admin_resets_a_password_and_revokes_tokens(app: Any, session: Any, staff: dict[str, int]) -> None:  # noqa: F811
    from zones.services.people import authenticate_token, create_token

    desk, _ = as_user(app, "desk")
    first, second = create_token(session, staff["desk"]), create_token(session, staff["desk"], days=90)
    admin, token = _admin(app)
    page = admin.get(f"/panel/users/{staff['desk']}")
    assert page.status_code == 200 and first not in page.text and second not in page.text
    token_ids = [int(i) for i in re.findall(r'name="token_id" value="(\d+)"', page.text)]
    assert len(token_ids) == 3  # the one made with the user, and two more

    resp = admin.post(
        f"/panel/users/{staff['desk']}/password",
        data={"csrf_token": token, "password": "12345", "password_again": "12345"},
    )
    assert resp.status_code == 400 and "at least 12 characters" in resp.text
    resp = admin.post(
        f"/panel/users/{staff['desk']}/password",
        data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert resp.status_code == 302 and not _signed_in(desk)
    assert _sign_in(app.test_client(), USERS["desk"].name, NEW_PASSWORD) == 302

    assert admin.post(
        f"/panel/users/{staff['desk']}/tokens/revoke", data={"csrf_token": token, "token_id": token_ids[1]}
    )
    session.expire_all()
    assert authenticate_token(session, first) is None and authenticate_token(session, second) is not None
    admin.post(f"/panel/users/{staff['desk']}/tokens/revoke", data={"csrf_token": token})
    session.expire_all()
    assert authenticate_token(session, second) is None
    assert "revoked" in admin.get(f"/panel/users/{staff['desk']}").text


def test_a_deactivated_user_cannot_sign_in_nor_use_a_token(app: Any, session: Any, staff: dict[str, int]) -> None:  # noqa: F811
    from zones.services.people import create_token

    desk, _ = as_user(app, "desk")
    api_token = create_token(session, staff["desk"])
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {api_token}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    admin, token = _admin(app)
    assert admin.post(f"/panel/users/{staff['desk']}/deactivate", data={"csrf_token": token}).status_code == 302
    assert "deactivated" in admin.get("/panel/users").text
    assert not _signed_in(desk)
    assert _sign_in(app.test_client(), USERS["desk"].name, USERS["desk"].password) == 401
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_an_expired_token_is_401(app: Any, session: Any, staff: dict[str, int]) -> None:  # noqa: F811
    from zones.schema import ApiToken
    from zones.services.people import create_token

    api_token = create_token(session, staff["desk"], days=90)
    bearer = {"Authorization": f"Bearer {api_token}"}
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    row = session.query(ApiToken).order_by(ApiToken.id.desc()).first()
    assert row.last_used_at is not None and row.expires_at > datetime.now(UTC) + timedelta(days=89)
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


# ---- headers -------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(app: Any) -> None:
    client, _ = as_user(app, "desk")
    responses = [
        client.get("/panel/visitors"),
        client.get("/login"),
        client.get("/api/v1/me"),  # 401 JSON
        client.get("/panel/no-such-page"),
        client.get("/static/sitegate.css"),
    ]
    headers = [resp.headers for resp in responses]
    for resp in responses:
        resp.close()  # the static file's handle
    for h in headers:
        csp = h.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
        assert h["X-Frame-Options"] == "DENY"
