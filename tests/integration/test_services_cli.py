"""``sitegate user create`` and ``sitegate db ...`` against the database config.toml names
(created and migrated on first use), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sitegate.cli import main
from tests.education import educate
from zones.db import make_engine, session_factory
from zones.schema import Employee
from zones.services import authenticate_token, register_visitor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_path(tmp_path, db_url):
    text = (
        (ROOT / "config.toml")
        .read_text(encoding="utf-8")
        .replace('database = "sqlite:///var/sitegate.db"', f'database = "{db_url}"')
    )
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _employee_for(db_url, token):
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            emp = authenticate_token(s, token)
            return None if emp is None else (emp.name, emp.role, emp.department, emp.card, emp.escort_zone_ids)
    finally:
        engine.dispose()


def test_user_create_prints_one_token_line(config_path, db_url, capsys):
    rc = main(
        [
            "--config",
            str(config_path),
            "user",
            "create",
            "Eve Escort",
            "--role",
            "escort",
            "--escort-zones",
            "smelting,assembly",
            "--card",
            "00a1b2c3d4",
            "--department",
            "steelmaking",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"token: [A-Za-z0-9_-]{40,}\n", out)
    token = out.split()[1]
    assert _employee_for(db_url, token) == (
        "Eve Escort",
        "escort",
        "steelmaking",
        "00A1B2C3D4",
        ["assembly", "smelting"],
    )


def test_user_create_errors(config_path, capsys):
    assert (
        main(["--config", str(config_path), "user", "create", "X", "--role", "escort", "--escort-zones", "furnace"])
        == 2
    )
    assert "escort-zones: unknown zone 'furnace'" in capsys.readouterr().err
    assert main(["--config", str(config_path), "user", "create", "A", "--role", "guard", "--card", "C1"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config_path), "user", "create", "B", "--role", "guard", "--card", "c1"]) == 1
    assert "card C1 is already issued" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # argparse lists the roles
        main(["--config", str(config_path), "user", "create", "C", "--role", "boss"])
    assert info.value.code == 2


def test_user_create_as_a_process_with_password_on_stdin(config_path, db_url, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sitegate.cli",
            "user",
            "--config",
            str(config_path),
            "create",
            "Ada",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="correct horse battery\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("token: ")
    assert _employee_for(db_url, lines[0].split()[1])[:2] == ("Ada", "admin")
    if db_url.startswith("sqlite:///"):  # the database a command creates is private (R20)
        assert stat.S_IMODE(Path(db_url.removeprefix("sqlite:///")).stat().st_mode) == 0o600
    assert "correct horse" not in proc.stdout + proc.stderr


def test_R7_db_purge_notifications(config_path, db_url, capsys):
    assert main(["--config", str(config_path), "db", "upgrade"]) == 0
    assert "database at revision" in capsys.readouterr().out
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            s.add(Employee(name="Sam", role="safety_officer", department="steelmaking"))
            s.commit()
            sam = s.query(Employee).one()
            v = register_visitor(s, name="Li", id_type="passport", id_number="P1")
            educate(s, visitor_id=v.id, educator_id=sam.id, delivered_at=datetime(2024, 1, 5, tzinfo=UTC))
    finally:
        engine.dispose()
    assert main(["--config", str(config_path), "db", "purge-notifications"]) == 0
    assert "purged 1 notification card" in capsys.readouterr().out


def test_user_token_and_revoke_token(config_path, db_url, capsys, monkeypatch):
    import io

    assert main(["--config", str(config_path), "user", "create", "Gao", "--role", "guard"]) == 0
    first = capsys.readouterr().out.split()[1]
    assert main(["--config", str(config_path), "user", "token", "Gao"]) == 0
    second = capsys.readouterr().out.split()[1]
    assert second != first and _employee_for(db_url, second)[0] == "Gao"
    monkeypatch.setattr("sys.stdin", io.StringIO(first + "\n"))
    assert main(["--config", str(config_path), "user", "revoke-token"]) == 0
    assert _employee_for(db_url, first) is None  # revoked
    assert _employee_for(db_url, second)[0] == "Gao"  # the other still works
    assert main(["--config", str(config_path), "user", "token", "Nobody"]) == 2
    assert "no user called 'Nobody'" in capsys.readouterr().err


def test_R5_department_head_names_who_approves_a_department_s_forms(config_path, db_url, capsys):
    from zones.services import create_user, department_head

    assert main(["--config", str(config_path), "db", "upgrade"]) == 0
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            hank, _ = create_user(s, "Hank Head", "escort", department="steelmaking")
            hank_id = hank.id
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["--config", str(config_path), "department", "head", "steelmaking", str(hank_id)]) == 0
    assert capsys.readouterr().out == f"head of steelmaking: {hank_id}\n"
    assert main(["--config", str(config_path), "department", "head", "smeltery", str(hank_id)]) == 2
    assert "department: unknown 'smeltery'" in capsys.readouterr().err
    assert main(["--config", str(config_path), "department", "head", "steelmaking", "999999"]) == 1
    assert "no active employee with id 999999" in capsys.readouterr().err
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            assert department_head(s, "steelmaking") == hank_id
    finally:
        engine.dispose()
    assert main(["--config", str(config_path), "department", "head", "steelmaking", "--none"]) == 0
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as s:
            assert department_head(s, "steelmaking") is None
    finally:
        engine.dispose()
