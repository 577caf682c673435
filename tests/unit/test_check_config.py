"""``sitegate check-config``: exit 0 for a good file; otherwise every error with the file and
its key path on stderr and exit 2 (contract.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sitegate.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config.toml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_valid(capsys):
    assert main(["check-config", "--config", str(ROOT / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert "ok (2 zones, 4 gates)" in out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('id = "smelting"', 'id = "Smelting Hall"'), "zones[1].id: String should match pattern"),
        (('zone = "smelting"', 'zone = "smeltng"'), 'gates[2].zone: unknown zone "smeltng"'),
        (('risk = "high-risk"', 'risk = "deadly"'), "zones[1].risk: Input should be 'general' or 'high-risk'"),
        (('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'), "site.timezone: unknown timezone 'Mars/Olympus'"),
        (
            ('database = "sqlite:///var/sitegate.db"', 'database = "mysql://x"'),
            "site.database: expected sqlite:///PATH",
        ),
        (('night = "20:00-07:00"', 'night = "8pm-7am"'), "rules.night: expected HH:MM-HH:MM"),
        (("min_age = 18", "min_age = -1"), "rules.min_age: Input should be greater than or equal to 0"),
        (('hours = "06:00-22:00"', 'hours = "06:00-06:00"'), "zones[1].hours: window '06:00-06:00' is empty"),
        (("baud = 9600 }", "baud = 9600, speed = 1 }"), "gates[0].reader.speed: unknown key (typo?)"),
        (
            ('modbus = "sim", unit = 1, release_coil = 2', 'modbus = "udp://x", unit = 1, release_coil = 2'),
            'gates[2].turnstile.modbus: expected "sim"',
        ),
        (("input = 10", "input = -3"), "alarm.input: Input should be greater than or equal to 0"),
        (('id = "assembly-out"', 'id = "assembly-in"'), 'gates[1].id: duplicate gate "assembly-in"'),
    ],
)
def test_check_config_names_the_file_and_key_path(tmp_path, capsys, change, expected):
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {expected}" in err


def test_check_config_reports_every_error_not_just_the_first(tmp_path, capsys):
    text = GOOD.replace('risk = "high-risk"', 'risk = "deadly"').replace('zone = "smelting"', 'zone = "nowhere"', 1)
    path = _write(tmp_path, text)
    assert main(["check-config", "--config", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{path}: ") for line in lines)


def test_check_config_bad_toml_and_missing_file(tmp_path, capsys):
    path = _write(tmp_path, "[site\nname = 1\n")
    assert main(["check-config", "--config", str(path)]) == 2
    assert f"{path}: not valid TOML" in capsys.readouterr().err
    missing = tmp_path / "nope.toml"
    assert main(["check-config", "--config", str(missing)]) == 2
    assert f"{missing}: cannot read" in capsys.readouterr().err


def test_check_config_as_a_process_exits_2_with_errors_on_stderr(tmp_path):
    path = _write(tmp_path, GOOD.replace("helmet = true", 'helmet = "yes please"'))
    proc = subprocess.run(
        [sys.executable, "-m", "sitegate.cli", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert f"{path}: zones[1].helmet: Input should be a valid boolean" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "sitegate.cli", "--config", str(ROOT / "config.toml"), "check-config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr


def test_check_config_loads_none_of_the_heavy_libraries():
    """The CLI imports only the subcommand being run: checking a file must not pay for the
    web panel, the database or the drivers (that would take seconds on a slow machine)."""
    heavy = ("flask", "sqlalchemy", "pymodbus", "osdp", "serial")
    probe = (
        "import sys\n"
        "from sitegate.cli import main\n"
        f"code = main(['check-config', '--config', {str(ROOT / 'config.toml')!r}])\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules), code)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "[] 0", result.stderr
