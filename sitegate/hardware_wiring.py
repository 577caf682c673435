"""Builds every gate's card reader and I/O module from config.toml, real or simulated: the
one place that turns config sections into driver arguments.

Usage (``sitegate serve`` / ``sitegate controller`` through sitegate.wiring)::

    hw = build_gate_hardware(config)                   # or gate_ids=["smelting-east"]
    hw.readers["smelting-east"].start(on_card)         # CardReader
    hw.io["smelting-east"].write_coil(2, True)         # IoModule
    hw.alarm_io                                        # IoModule | None ([alarm])
    hw.sims.readers["smelting-east"].present("0A00C0FFEE")   # only for port = "sim"
    hw.close()                                         # readers, modules, simulators

``port = "sim"``: a simulated reader per gate on a fresh pty, which the real driver opens:
a PtyReaderSim for ``em4100`` / ``line``, a running OsdpReaderSim (libosdp PD with the
gate's address and key) for ``osdp``. ``modbus = "sim"``: one TurnstileSim (a real
pymodbus TCP server on a free loopback port) shared by every simulated gate and the
simulated alarm, each gate's release_coil / passage_input registered as a turnstile; the
real ModbusIoModule talks to it. When any simulator exists, a control socket
(hardware.sim_control, ``sim_socket_path``) lets ``sitegate sim ...`` drive them from a
second terminal.

Driver modules (pymodbus, libosdp) are imported when a gate needs them, not with this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardware.base import CardReader, IoModule
from hardware.sim_control import SimControlServer, SimSet
from zones.config import GateSection, ReaderSection, SiteConfig

if TYPE_CHECKING:
    from hardware.osdp_bus import OsdpLines

log = logging.getLogger(__name__)

SIM = "sim"


@dataclass
class GateHardware:
    """What ``build_gate_hardware`` built, by gate id, and everything ``close`` stops."""

    readers: dict[str, CardReader] = field(default_factory=dict)
    io: dict[str, IoModule] = field(default_factory=dict)
    alarm_io: IoModule | None = None
    sims: SimSet = field(default_factory=SimSet)
    control: SimControlServer | None = None  # while simulators exist
    osdp_lines: OsdpLines | None = None  # the OSDP buses, once a gate speaks OSDP
    sim_stops: list[Callable[[], None]] = field(default_factory=list)  # reader simulators

    def close(self) -> None:
        """Stop readers, close I/O modules, stop the simulators and the control socket.
        Safe to call twice and after a partial build."""
        for reader in self.readers.values():
            _quietly(reader.stop)
        for module in [*self.io.values(), *([self.alarm_io] if self.alarm_io else [])]:
            _quietly(module.close)
        if self.control is not None:
            _quietly(self.control.close)
        for stop in self.sim_stops:
            _quietly(stop)
        if self.sims.turnstile is not None:
            _quietly(self.sims.turnstile.stop)


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:  # closing one part must not keep the others open
        log.exception("closing hardware: %r failed", fn)


def sim_socket_path(config: SiteConfig) -> Path:
    """Where ``serve`` listens and ``sitegate sim`` connects: next to the SQLite file,
    else ``var/`` (relative paths resolve against the working directory, like SQLite's)."""
    from sqlalchemy.engine import make_url

    url = make_url(config.site.database)
    db = url.database or ""
    if url.get_backend_name() == "sqlite" and db and db != ":memory:" and not db.startswith("file:"):
        return Path(db).parent / "sim.sock"
    return Path("var") / "sim.sock"


def build_gate_hardware(
    config: SiteConfig,
    gate_ids: list[str] | None = None,
    *,
    control_socket: str | Path | None = None,
    sim_pass_delay_s: float = 0.8,
    sim_pass_probability: float = 1.0,
) -> GateHardware:
    """Readers and I/O modules for the configured gates (all, or ``gate_ids``), plus the
    alarm module. Readers are built, not started (the controller starts them). Starts the
    simulators and the sim control socket (default: ``sim_socket_path(config)``) when a
    gate or the alarm is simulated. Raises ValueError / RuntimeError when a part cannot
    be built; whatever was built by then is closed first."""
    from hardware.modbus_io import module_for

    gates = [g for g in config.gates if gate_ids is None or g.id in gate_ids]
    hw = GateHardware()
    try:
        sim_modbus = [g for g in gates if g.turnstile.modbus == SIM]
        alarm_sim = config.alarm is not None and config.alarm.modbus == SIM
        sim: Any = None
        if sim_modbus or alarm_sim:
            sim = hw.sims.turnstile = _start_turnstile_sim(config, sim_modbus, sim_pass_delay_s, sim_pass_probability)
        for g in gates:
            hw.readers[g.id] = build_reader(g.id, g.reader, hw)
            t = g.turnstile
            if t.modbus == SIM:
                hw.sims.gates[g.id] = (t.release_coil, t.passage_input)
                hw.io[g.id] = module_for(sim.url, sim.unit)
            else:
                hw.io[g.id] = module_for(t.modbus, t.unit)
        if config.alarm is not None:
            if alarm_sim:
                hw.sims.alarm_input = config.alarm.input
                hw.alarm_io = module_for(sim.url, sim.unit)
            else:
                hw.alarm_io = module_for(config.alarm.modbus, config.alarm.unit)
        if hw.sims:
            path = Path(control_socket) if control_socket else sim_socket_path(config)
            hw.control = SimControlServer(path, hw.sims)
            hw.control.start()
    except BaseException:
        hw.close()
        raise
    return hw


def _start_turnstile_sim(
    config: SiteConfig, sim_gates: list[GateSection], pass_delay_s: float, pass_probability: float
) -> Any:
    from hardware.sim_turnstile import TurnstileSim

    units = {g.turnstile.unit for g in sim_gates}
    if config.alarm is not None and config.alarm.modbus == SIM:
        units.add(config.alarm.unit)
    unit = min(units)
    if len(units) > 1:
        log.warning(
            "simulated I/O: one simulated module serves every sim gate as unit %d (config names units %s)",
            unit,
            sorted(units),
        )
    sim = TurnstileSim(unit=unit, pass_delay_s=pass_delay_s, pass_probability=pass_probability)
    for g in sim_gates:
        sim.add_turnstile(g.turnstile.release_coil, g.turnstile.passage_input)
    sim.start()
    return sim


def build_reader(gate_id: str, section: ReaderSection, hw: GateHardware) -> CardReader:
    """The card reader of one gate, added to nothing yet (the caller keeps it). With
    ``port = "sim"`` its simulator goes into ``hw.sims`` and stops with ``hw.close()``."""
    if section.protocol == "osdp":
        return _osdp_reader(gate_id, section, hw)
    from hardware.serial_reader import SerialCardReader

    port = section.port
    if port == SIM:
        from hardware.sim_reader import PtyReaderSim

        sim_reader = PtyReaderSim(section.protocol)
        hw.sims.readers[gate_id] = sim_reader
        hw.sim_stops.append(sim_reader.close)
        port = sim_reader.port
    return SerialCardReader(gate_id, section.protocol, port, section.baud)


def _osdp_reader(gate_id: str, section: ReaderSection, hw: GateHardware) -> CardReader:
    from hardware.osdp_bus import OsdpLines
    from hardware.osdp_reader import OsdpCardReader

    if hw.osdp_lines is None:
        hw.osdp_lines = OsdpLines()
    port = section.port
    if port == SIM:
        from hardware.sim_osdp import OsdpReaderSim

        sim_reader = OsdpReaderSim(address=section.address, scbk=section.scbk, install_mode=section.install_mode)
        hw.sim_stops.append(sim_reader.shutdown)
        sim_reader.start()
        hw.sims.readers[gate_id] = sim_reader
        port = sim_reader.port
    return OsdpCardReader(
        gate_id,
        port,
        hw.osdp_lines,
        baud=section.baud,
        address=section.address,
        scbk=bytes.fromhex(section.scbk) if section.scbk else None,
        install_mode=section.install_mode,
    )
