"""``sitegate user set-password | deactivate | tokens | revoke-tokens`` and ``--config`` after
any subcommand (issue 10, findings 6 and 10), on SQLite."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sitegate.cli import main
from zones.db import make_engine, session_factory
from zones.schema import ApiToken
from zones.services.people import authenticate_password, authenticate_token, user_by_name

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough pass"


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace('database = "sqlite:///var/sitegate.db"', f'database = "sqlite:///{tmp_path / "site.db"}"')
    )
    path = tmp_path / "site.toml"
    path.write_text(text + "\n[web]\ntoken_days = 7\n", encoding="utf-8")
    return path


def _db(config_path: Path) -> str:
    return f"sqlite:///{config_path.parent / 'site.db'}"


def _cli(config_path: Path, *args: str, stdin: str = "") -> int:
    """``sitegate ARGS --config PATH``: the option last, after the nested action."""
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main([*args, "--config", str(config_path)])
    finally:
        sys.stdin = old


def _check(config_path: Path, name: str, password: str = "", token: str = "") -> tuple[bool, bool]:
    """(password signs in, token authenticates)."""
    engine = make_engine(_db(config_path))
    try:
        with session_factory(engine)() as s:
            return authenticate_password(s, name, password) is not None, authenticate_token(s, token) is not None
    finally:
        engine.dispose()


def _create(config_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert _cli(config_path, "user", "create", name, "--role", "guard") == 0
    return capsys.readouterr().out.split()[1]


@pytest.mark.parametrize("args", [["user", "create", "bob", "--role", "guard"], ["db", "upgrade"]])
def test_config_option_after_any_subcommand(config_path: Path, args: list[str]) -> None:
    assert main([*args, "--config", str(config_path)]) == 0
    assert (config_path.parent / "site.db").exists()  # the config's database, not ./var's


def test_config_option_after_check_config(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(config_path)]) == 0
    assert capsys.readouterr().out.startswith(f"{config_path}: ok")


def test_config_option_between_subcommand_and_action(config_path: Path) -> None:
    assert main(["user", "--config", str(config_path), "create", "bob", "--role", "guard"]) == 0


def test_set_password_needs_the_minimum_length(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _create(config_path, "Gao", capsys)
    assert _cli(config_path, "user", "set-password", "Gao", stdin="x\n") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert _cli(config_path, "user", "set-password", "Gao", stdin="elevenchars\n") == 2
    assert _check(config_path, "Gao", "elevenchars") == (False, False)
    assert _cli(config_path, "user", "set-password", "Gao", stdin=PASSWORD + "\n") == 0
    assert PASSWORD not in capsys.readouterr().out
    assert _check(config_path, "Gao", PASSWORD)[0]
    assert _cli(config_path, "user", "set-password", "Nobody", stdin=PASSWORD + "\n") == 1
    assert "no user called Nobody" in capsys.readouterr().err


def test_create_refuses_a_short_password(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(config_path, "user", "create", "Ada", "--role", "admin", "--password-stdin", stdin="1\n") == 2
    assert "password: at least 12 characters" in capsys.readouterr().err


def test_tokens_listed_without_their_value_and_revoked(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _create(config_path, "Gao", capsys)
    assert _cli(config_path, "user", "token", "Gao") == 0
    second = capsys.readouterr().out.split()[1]
    assert _check(config_path, "Gao", token=first)[1]  # used once: last use noted
    assert _cli(config_path, "user", "tokens", "Gao") == 0
    listing = capsys.readouterr().out
    assert first not in listing and second not in listing
    rows = [line.split() for line in listing.splitlines()[1:]]
    assert len(rows) == 2 and all(r[-1] == "active" for r in rows)
    today = datetime.now(UTC).date()
    expires = (today + timedelta(days=7)).isoformat()  # [web] token_days = 7
    assert rows[0][1] == today.isoformat() and rows[0][4] == expires and rows[0][7] == today.isoformat()
    assert rows[1][7] == "-"  # the second was never used
    first_id = rows[0][0]

    assert _cli(config_path, "user", "revoke-tokens", "Gao", "--token-id", first_id) == 0
    assert "1 token(s) of Gao revoked" in capsys.readouterr().out
    assert _check(config_path, "Gao", token=first)[1] is False
    assert _check(config_path, "Gao", token=second)[1] is True
    assert _cli(config_path, "user", "revoke-tokens", "Gao") == 0
    assert "1 token(s) of Gao revoked" in capsys.readouterr().out
    assert _check(config_path, "Gao", token=second)[1] is False
    assert _cli(config_path, "user", "tokens", "Gao") == 0
    assert [line.split()[-1] for line in capsys.readouterr().out.splitlines()[1:]] == ["revoked", "revoked"]


def test_expired_token_is_refused(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _create(config_path, "Gao", capsys)
    engine = make_engine(_db(config_path))
    try:
        with session_factory(engine)() as s:
            row = s.query(ApiToken).one()
            assert row.expires_at is not None and row.expires_at > datetime.now(UTC) + timedelta(days=6)
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            s.commit()
    finally:
        engine.dispose()
    assert _check(config_path, "Gao", token=token)[1] is False
    assert _cli(config_path, "user", "tokens", "Gao") == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "expired"


def test_deactivated_user_cannot_sign_in_nor_use_tokens(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _create(config_path, "Gao", capsys)
    assert _cli(config_path, "user", "set-password", "Gao", stdin=PASSWORD + "\n") == 0
    assert _check(config_path, "Gao", PASSWORD, token) == (True, True)
    assert _cli(config_path, "user", "deactivate", "Gao") == 0
    assert re.search(r"Gao deactivated", capsys.readouterr().out)
    assert _check(config_path, "Gao", PASSWORD, token) == (False, False)
    engine = make_engine(_db(config_path))
    try:
        with session_factory(engine)() as s:
            assert user_by_name(s, "Gao").active is False
    finally:
        engine.dispose()
