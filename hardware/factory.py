"""Builds every gate's card reader and I/O module from config.toml, real or simulated.

Usage (``sitegate serve`` / ``sitegate controller`` through sitegate.wiring)::

    hw = build_gate_hardware(config)                   # or gate_ids=["smelting-east"]
    hw.readers["smelting-east"].start(on_card)         # CardReader
    hw.io["smelting-east"].write_coil(2, True)         # IoModule
    hw.alarm_io                                        # IoModule | None ([alarm])
    hw.sims.readers["smelting-east"].present("0A00C0FFEE")   # only for port = "sim"
    hw.close()                                         # readers, modules, simulators

``port = "sim"``: a PtyReaderSim per gate, whose tty the real SerialCardReader opens.
``modbus = "sim"``: one TurnstileSim (a real pymodbus TCP server on a free loopback port)
shared by every simulated gate and the simulated alarm, each gate's release_coil /
passage_input registered as a turnstile; the real ModbusIoModule talks to it. When any
simulator exists, a control socket (hardware.sim_control, ``var/sim.sock``) lets
``sitegate sim ...`` drive them from a second terminal.

Protocol ``osdp`` is built by ``hardware.osdp_reader.make_osdp_reader(gate_id, reader
section, sim: bool)``. If the reader it returns has a ``.sim`` with ``present(card)`` and
``close()``, that simulator is driven by ``sitegate sim present`` like the serial ones.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.base import CardReader, IoModule
from zones.config import GateSection, SiteConfig

log = logging.getLogger(__name__)

SIM = "sim"


@dataclass
class SimSet:
    """The simulators behind simulated gates (empty when everything is real)."""

    readers: dict[str, Any] = field(default_factory=dict)    # gate id -> PtyReaderSim (or OSDP sim)
    turnstile: Any | None = None                               # TurnstileSim
    gates: dict[str, tuple[int, int]] = field(default_factory=dict)  # gate -> (coil, input) on the sim
    alarm_input: int | None = None                             # alarm contact on the sim

    def __bool__(self) -> bool:
        return bool(self.readers) or self.turnstile is not None


@dataclass
class GateHardware:
    readers: dict[str, CardReader] = field(default_factory=dict)
    io: dict[str, IoModule] = field(default_factory=dict)
    alarm_io: IoModule | None = None
    sims: SimSet = field(default_factory=SimSet)
    control: Any | None = None      # SimControlServer while simulators exist

    def close(self) -> None:
        """Stop readers, close I/O modules, stop the simulators and the control socket.
        Safe to call twice and after a partial build."""
        for reader in self.readers.values():
            _quietly(reader.stop)
        for module in [*self.io.values(), *([self.alarm_io] if self.alarm_io else [])]:
            _quietly(module.close)
        if self.control is not None:
            _quietly(self.control.close)
        for sim in self.sims.readers.values():
            _quietly(sim.close)
        if self.sims.turnstile is not None:
            _quietly(self.sims.turnstile.stop)


def _quietly(fn: Any) -> None:
    try:
        fn()
    except Exception:  # closing one part must not keep the others open
        log.exception("closing hardware: %r failed", fn)


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
    turnstile simulator and the sim control socket (default: ``sim_socket_path(config)``)
    when a gate or the alarm is simulated. Raises ValueError / RuntimeError when a part
    cannot be built; whatever was built by then is closed first."""
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
            hw.readers[g.id] = _reader(g, hw.sims)
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
            from hardware.sim_control import SimControlServer, sim_socket_path

            path = Path(control_socket) if control_socket else sim_socket_path(config)
            hw.control = SimControlServer(path, hw.sims)
            hw.control.start()
    except BaseException:
        hw.close()
        raise
    return hw


def _start_turnstile_sim(config: SiteConfig, sim_gates: list[GateSection],
                         pass_delay_s: float, pass_probability: float) -> Any:
    from hardware.sim_turnstile import TurnstileSim

    units = {g.turnstile.unit for g in sim_gates}
    if config.alarm is not None and config.alarm.modbus == SIM:
        units.add(config.alarm.unit)
    unit = min(units)
    if len(units) > 1:
        log.warning("simulated I/O: one simulated module serves every sim gate as unit %d "
                    "(config names units %s)", unit, sorted(units))
    sim = TurnstileSim(unit=unit, pass_delay_s=pass_delay_s, pass_probability=pass_probability)
    for g in sim_gates:
        sim.add_turnstile(g.turnstile.release_coil, g.turnstile.passage_input)
    sim.start()
    return sim


def _reader(gate: GateSection, sims: SimSet) -> CardReader:
    section = gate.reader
    if section.protocol == "osdp":
        # The OSDP engineer's module; imported only when a gate speaks OSDP.
        osdp = importlib.import_module("hardware.osdp_reader")
        reader: CardReader = osdp.make_osdp_reader(gate.id, section, section.port == SIM)
        sim = getattr(reader, "sim", None)
        if sim is not None:
            sims.readers[gate.id] = sim
        return reader
    from hardware.serial_reader import SerialCardReader

    port = section.port
    if port == SIM:
        from hardware.sim_reader import PtyReaderSim

        sim_reader = PtyReaderSim(section.protocol)
        sims.readers[gate.id] = sim_reader
        port = sim_reader.port
    return SerialCardReader(gate.id, section.protocol, port, section.baud)
