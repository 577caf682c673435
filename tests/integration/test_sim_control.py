"""build_gate_hardware with ``port = "sim"`` / ``modbus = "sim"``: real drivers on real
simulators, driven through the control socket and the ``sitegate sim`` command."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.base import CardRead, HardwareError
from hardware.serial_reader import SerialCardReader
from hardware.sim_control import request
from sitegate.cli import main
from sitegate.hardware_wiring import GateHardware, build_gate_hardware, sim_socket_path
from zones.config import SiteConfig, parse_config

pytestmark = pytest.mark.usefixtures("no_thread_leak")

CONFIG = """
[site]
database = "sqlite:///{db}"

[[zones]]
id = "smelting"
name = "Smelting"
department = "steelmaking"

[[gates]]
id = "smelting-east"
zone = "smelting"
direction = "in"
reader = {{ protocol = "em4100", port = "sim" }}
turnstile = {{ modbus = "sim", unit = 1, release_coil = 2, passage_input = 2 }}

[[gates]]
id = "smelting-exit"
zone = "smelting"
direction = "out"
reader = {{ protocol = "line", port = "sim" }}
turnstile = {{ modbus = "sim", unit = 1, release_coil = 3, passage_input = 3 }}

[alarm]
modbus = "sim"
unit = 1
input = 10
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=tmp_path / "var" / "sitegate.db"), encoding="utf-8")
    return path


@pytest.fixture
def config(config_file: Path) -> SiteConfig:
    return parse_config(config_file.read_text(encoding="utf-8"))


@pytest.fixture
def hardware(config: SiteConfig) -> Iterator[GateHardware]:
    hw = build_gate_hardware(config, sim_pass_delay_s=0.1)
    try:
        yield hw
    finally:
        hw.close()


@pytest.fixture
def reads(hardware: GateHardware, wait_until: Callable[..., Any]) -> queue.Queue[CardRead]:
    q: queue.Queue[CardRead] = queue.Queue()
    for reader in hardware.readers.values():
        reader.start(q.put)
    wait_until(lambda: all(r.health()["online"] for r in hardware.readers.values()), what="readers online")
    return q


def test_socket_sits_next_to_the_sqlite_database(config: SiteConfig, tmp_path: Path) -> None:
    assert sim_socket_path(config) == tmp_path / "var" / "sim.sock"
    pg = config.model_copy(
        update={"site": config.site.model_copy(update={"database": "postgresql+psycopg://postgres@127.0.0.1/sitegate"})}
    )
    assert sim_socket_path(pg) == Path("var/sim.sock")


def test_wiring_builds_real_drivers_on_simulators(hardware: GateHardware, config: SiteConfig) -> None:
    assert set(hardware.readers) == {"smelting-east", "smelting-exit"}
    assert all(isinstance(r, SerialCardReader) for r in hardware.readers.values())
    assert hardware.sims.turnstile is not None and hardware.sims.turnstile.turnstiles() == {2: 2, 3: 3}
    reader = hardware.readers["smelting-east"]
    assert isinstance(reader, SerialCardReader) and reader.port == hardware.sims.readers["smelting-east"].port
    hardware.io["smelting-east"].write_coil(2, True)
    assert hardware.sims.turnstile.coil(2) is True
    assert sim_socket_path(config).exists()


def test_present_through_the_socket_reaches_the_gates_reader(
    hardware: GateHardware, reads: queue.Queue[CardRead], config: SiteConfig
) -> None:
    path = sim_socket_path(config)
    reply = request(path, {"op": "present", "gate": "smelting-east", "card": "0a00c0ffee"})
    assert reply == {"ok": True, "gate": "smelting-east", "card": "0A00C0FFEE"}
    read = reads.get(timeout=5)
    assert (read.reader_id, read.card) == ("smelting-east", "0A00C0FFEE")
    request(path, {"op": "present", "gate": "smelting-exit", "card": "emp42"})
    assert reads.get(timeout=5).card == "EMP42"


def test_control_errors_are_replies_not_crashes(hardware: GateHardware, config: SiteConfig) -> None:
    path = sim_socket_path(config)
    assert request(path, {"op": "present", "gate": "nope", "card": "1"})["ok"] is False
    assert request(path, {"op": "present", "gate": "smelting-east", "card": "XYZ"})["ok"] is False
    assert request(path, {"op": "fly"})["ok"] is False
    assert request(path, {"op": "status"})["ok"] is True  # still serving


def test_alarm_and_status(hardware: GateHardware, config: SiteConfig) -> None:
    path = sim_socket_path(config)
    assert request(path, {"op": "alarm", "on": True}) == {"ok": True, "alarm": True}
    assert hardware.alarm_io is not None and hardware.alarm_io.read_inputs(10) == [True]
    status = request(path, {"op": "status"})
    assert status["alarm"] == {"input": 10, "on": True}
    assert status["gates"]["smelting-east"]["release_coil"] == 2
    assert status["gates"]["smelting-east"]["coil"] is False


def test_unreachable_module_is_a_hardware_error(hardware: GateHardware) -> None:
    assert hardware.sims.turnstile is not None
    hardware.sims.turnstile.stop()
    with pytest.raises(HardwareError):
        hardware.io["smelting-east"].write_coil(2, True)


def test_close_removes_the_socket(config: SiteConfig) -> None:
    hw = build_gate_hardware(config)
    path = sim_socket_path(config)
    assert path.exists()
    hw.close()
    hw.close()
    assert not path.exists()


def test_cli_status_alarm_and_present_without_events(
    hardware: GateHardware,
    reads: queue.Queue[CardRead],
    config_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--config", str(config_file), "sim", "alarm", "on"]) == 0
    assert "fire alarm ON" in capsys.readouterr().out
    assert main(["--config", str(config_file), "sim", "status"]) == 0
    out = capsys.readouterr().out
    assert "smelting-east" in out and "coil 2=0" in out and "fire alarm input 10: ON" in out
    # No controller runs here, so no decision arrives: the command says so and exits 1.
    code = main(
        [
            "--config",
            str(config_file),
            "sim",
            "present",
            "--gate",
            "smelting-east",
            "--card",
            "0A00C0FFEE",
            "--wait",
            "0.3",
        ]
    )
    out = capsys.readouterr().out
    assert "card 0A00C0FFEE presented at smelting-east" in out
    assert "no decision recorded" in out and code == 1
    assert reads.get(timeout=5).card == "0A00C0FFEE"


def test_cli_without_serve_says_so(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file), "sim", "status"]) == 1
    assert "no running `sitegate serve`" in capsys.readouterr().out


def test_osdp_sim_gate_reads_from_its_simulator_driven_by_the_socket(
    tmp_path: Path, wait_until: Callable[..., Any]
) -> None:
    text = CONFIG.format(db=tmp_path / "var" / "sitegate.db").replace(
        'reader = { protocol = "line", port = "sim" }', 'reader = { protocol = "osdp", port = "sim", address = 1 }'
    )
    config = parse_config(text)
    hw = build_gate_hardware(config)
    try:
        reader = hw.readers["smelting-exit"]
        assert type(reader).__name__ == "OsdpCardReader"
        sim = hw.sims.readers["smelting-exit"]
        assert type(sim).__name__ == "OsdpReaderSim"
        assert reader.health()["port"] == sim.port
        q: queue.Queue[CardRead] = queue.Queue()
        reader.start(q.put)
        wait_until(lambda: reader.health()["online"], timeout=10, what="osdp reader online")
        path = sim_socket_path(config)
        # reads in the first 2 s online are discarded as stale (libosdp #133, osdp_reader)
        wait_until(
            lambda: time.monotonic() - reader.health()["online_since"] > 2.2,  # type: ignore[operator]
            what="osdp link settled",
        )
        assert request(path, {"op": "present", "gate": "smelting-exit", "card": "0A00C0FFEE"})["ok"]
        assert q.get(timeout=5).card == "0A00C0FFEE"
        assert request(path, {"op": "present", "gate": "smelting-exit", "card": "XYZ"})["ok"] is False
        assert request(path, {"op": "raw", "gate": "smelting-exit", "hex": "00"})["ok"] is False
    finally:
        hw.close()
