"""A simulated OSDP card reader: libosdp's own PeripheralDevice on one end of a pty.

Usage::

    with OsdpReaderSim(address=1, scbk="00112233445566778899AABBCCDDEEFF") as sim:
        reader = OsdpCardReader("gate-1", sim.port, OsdpLines(), address=1, scbk=...)
        sim.present("0A00C0FFEE")      # a card read, Wiegand format, 40 bits
        sim.commands                   # LED / buzzer commands the control panel sent
        sim.close(); sim.reopen()      # pull the reader's cable out and plug it back in

What of the wire it models (see ``SimLine``): a half-duplex RS-485 multi-drop line on a pty.
Every PD on the line hears every byte the control panel sends (libosdp discards packets
for other addresses, as a real reader does); what PDs send goes to the control panel
only. ``close()`` cuts one reader's cable: its bytes are lost both ways while its
PeripheralDevice keeps running, so card reads presented meanwhile queue up inside it and
come out late when the cable is back (libosdp issue #133). It does not model baud timing
(a pty is memory speed), collisions, line noise or bus echo.

Life cycle: nothing runs until ``start()``; ``shutdown()`` stops the PD thread and frees
the pty (libosdp's threads are not daemons: an unstopped sim keeps the process alive). On
a running sim ``close()`` is the unplug, not the clean-up; on a sim that is not running it
frees the pty, so closing a sim that never started leaks nothing either.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import tty
from typing import Any

from osdp import (
    Capability,
    CardFormat,
    Channel,
    Command,
    CommandLEDColor,
    Event,
    LibFlag,
    LogLevel,
    PDCapabilities,
    PDInfo,
    PeripheralDevice,
    StatusReportType,
)

log = logging.getLogger(__name__)

_COMMAND_NAMES = {
    Command.LED: "led",
    Command.Buzzer: "buzzer",
    Command.Keyset: "keyset",
    Command.Output: "output",
    Command.Text: "text",
}
COLOR_NAMES = {
    getattr(CommandLEDColor, n): n.lower()
    for n in ("Black", "Red", "Green", "Amber", "Blue", "Magenta", "Cyan", "White")
}


class SimLine:
    """One pty standing for an RS-485 line; PDs attach with ``attach()``. ``port`` is the
    tty path the control panel opens. Thread-safe: each PD's refresh thread pumps the
    line when it reads."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo / line editing before the CP opens it
        os.set_blocking(self._master, False)
        self.port: str = os.ttyname(self._slave)  # slave held open: path stays valid
        self._lock = threading.Lock()
        self._wires: list[_PdWire] = []
        self._closed = False

    def attach(self) -> _PdWire:
        wire = _PdWire(self)
        with self._lock:
            self._wires.append(wire)
        return wire

    def _pump(self) -> None:
        """Move what the CP wrote to every attached PD's input (caller holds the lock)."""
        while not self._closed:
            try:
                data = os.read(self._master, 1024)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            for wire in self._wires:
                if wire.connected:
                    wire.inbox.extend(data)

    def _send(self, data: bytes) -> int:
        try:
            return os.write(self._master, data)
        except (BlockingIOError, OSError) as err:  # CP not reading: bytes lost, as on a wire
            log.debug("sim osdp line %s: %d bytes lost: %s", self.port, len(data), err)
            return len(data)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._master)
            os.close(self._slave)


class _PdWire(Channel):
    """One PD's tap on a SimLine (the libosdp Channel it is given)."""

    def __init__(self, line: SimLine) -> None:
        super().__init__()
        self.line = line
        self.inbox = bytearray()
        self.connected = True

    def read(self, max_bytes: int) -> bytes:
        with self.line._lock:
            self.line._pump()
            data = bytes(self.inbox[:max_bytes])
            del self.inbox[:max_bytes]
        return data

    def write(self, buf: bytes) -> int:
        with self.line._lock:
            if not self.connected or self.line._closed:
                return len(buf)  # cable cut: the bytes go nowhere
            return self.line._send(bytes(buf))

    def flush(self) -> None:
        with self.line._lock:
            self.inbox.clear()


def wiegand26(facility: int, number: int) -> bytes:
    """The 4 data bytes of a 26-bit H10301 Wiegand read (even parity over the first 12
    bits, 8-bit facility, 16-bit card number, odd parity over the last 12), MSB first and
    left-aligned as OSDP carries it; present it with ``present_bits(data, 26)``."""
    if not (0 <= facility < 256 and 0 <= number < 65536):
        raise ValueError("facility is 0-255 and number 0-65535")
    body = (facility << 16) | number  # 24 bits
    even = bin(body >> 12).count("1") % 2  # makes the first 13 bits even
    odd = 1 - bin(body & 0xFFF).count("1") % 2  # makes the last 13 bits odd
    bits = (even << 25) | (body << 1) | odd
    return (bits << 6).to_bytes(4, "big")  # 26 bits left-aligned in 32


def _key(scbk: bytes | str | None) -> bytes | None:
    if scbk is None or isinstance(scbk, bytes):
        return scbk
    return bytes.fromhex(scbk)


class OsdpReaderSim:
    """A libosdp PeripheralDevice with LED, buzzer and secure-channel capabilities.

    ``address``: its OSDP address (0-126). ``scbk``: its secure channel base key (16 bytes
    or 32 hex digits); None with ``install_mode=False`` means a reader without secure
    channel. ``install_mode``: a factory-fresh reader that accepts one secure session with
    the default key and then takes the key the control panel sends (KEYSET); the key
    it took is in ``scbk`` afterwards. ``line``: share an existing SimLine (multi-drop).
    """

    def __init__(
        self, address: int = 0, scbk: bytes | str | None = None, install_mode: bool = False, line: SimLine | None = None
    ) -> None:
        self.address = address
        self.scbk = _key(scbk)
        self.install_mode = install_mode
        self.line = line or SimLine()
        self._own_line = line is None
        self.port = self.line.port
        self.commands: list[dict[str, Any]] = []
        self._wire = self.line.attach()
        self._pd: PeripheralDevice | None = None
        self._started = False
        self._stopped = False

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> OsdpReaderSim:
        """Start the PD's refresh thread (libosdp's, not a daemon). Returns self."""
        if self._started:
            return self
        flags = []
        if self.install_mode:
            flags.append(LibFlag.InstallMode)
        elif self.scbk is not None:
            flags.append(LibFlag.EnforceSecure)
        caps = [(Capability.LEDControl, 1, 1), (Capability.AudibleControl, 1, 1)]
        if self.scbk is not None or self.install_mode:
            caps.append((Capability.CommunicationSecurity, 1, 1))
        self._pd = PeripheralDevice(
            PDInfo(self.address, self._wire, scbk=self.scbk, flags=flags),
            PDCapabilities(caps),
            log_level=LogLevel.Error,
        )
        # Straight on the osdp_sys object: the wrapper's handler would also keep every
        # command in an unbounded queue for get_command(), which nobody reads here.
        self._pd.ctx.set_command_callback(self._on_command)
        self._pd.start()
        self._started = True
        return self

    def shutdown(self) -> None:
        """Stop the PD thread and free the pty (when this sim made it). Idempotent."""
        if self._stopped:
            return
        self._stopped = self._started = True  # a shut-down sim cannot be started again
        try:
            if self._pd is not None and self._pd.thread is not None:
                self._pd.teardown()
        finally:
            if self._own_line:
                self.line.close()

    def __enter__(self) -> OsdpReaderSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    # -- the cable -----------------------------------------------------------------------

    def close(self) -> None:
        """Unplug: cut this reader's cable. The PD keeps running and queues card reads;
        ``reopen()`` plugs it back. On a sim that is not running (never started, or shut
        down) there is no cable to cut and close() frees the pty instead."""
        if not self._started or self._stopped:
            self.shutdown()
            return
        with self.line._lock:
            self._wire.connected = False
            self._wire.inbox.clear()

    def reopen(self) -> None:
        """Plug the cable back in."""
        with self.line._lock:
            self._wire.connected = True

    @property
    def connected(self) -> bool:
        return self._wire.connected

    # -- what a person does at the reader ------------------------------------------------

    def present(self, card: str) -> bool:
        """Hold a card to the reader: a CardRead event in Wiegand format whose data bytes
        are ``card`` (hex digits, an even number of them; bit length = 8 per byte).
        Returns whether libosdp queued it. Raises ValueError for non-hex input."""
        try:
            data = bytes.fromhex(card)
        except ValueError:
            data = b""
        if not data:
            raise ValueError(f"an OSDP card number is an even number of hex digits, got {card!r}")
        return self.present_bits(data, 8 * len(data))

    def present_bits(self, data: bytes, bits: int) -> bool:
        """A Wiegand read of ``bits`` bits, MSB first, left-aligned in ``data``."""
        return self._submit(
            {
                "event": Event.CardRead,
                "reader_no": 0,
                "direction": 0,
                "format": CardFormat.Wiegand,
                "length": bits,
                "data": data,
            }
        )

    def set_status(self, *, tamper: bool = False, power_failure: bool = False) -> bool:
        """Report the reader's local status (osdp_LSTATR): tamper switch, power."""
        return self._submit(
            {"event": Event.Status, "type": StatusReportType.Local, "report": bytes([int(tamper), int(power_failure)])}
        )

    def _submit(self, event: dict[str, Any]) -> bool:
        if self._pd is None or self._stopped:
            raise RuntimeError("OsdpReaderSim not started (call start())")
        return bool(self._pd.submit_event(event))

    # -- what the control panel tells the reader ----------------------------------------

    def _on_command(self, command: dict[str, Any]) -> tuple[int, None]:
        # Runs in libosdp's PD thread; must not raise (libosdp would print and NAK).
        try:
            entry = dict(command)
            entry["at"] = time.monotonic()
            entry["name"] = _COMMAND_NAMES.get(command.get("command"), str(command.get("command")))
            if entry["name"] == "led":
                entry["color"] = COLOR_NAMES.get(command.get("on_color"), "?")
            if entry["name"] == "keyset":
                entry.pop("data", None)  # never keep key material in a log-like list
                self.scbk = bytes(command["data"])  # install mode: the reader now has our key
                log.info("sim osdp reader %d: took a new SCBK (install mode)", self.address)
            self.commands.append(entry)
        except Exception:  # noqa: BLE001 - a bug here must not NAK the control panel
            log.exception("sim osdp reader %d: command handler failed", self.address)
        return 0, None

    def leds(self) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["name"] == "led"]

    def buzzers(self) -> list[dict[str, Any]]:
        return [c for c in self.commands if c["name"] == "buzzer"]

    @property
    def online(self) -> bool:
        """Whether the PD sees a control panel (libosdp's view from the reader's side)."""
        return bool(self._pd is not None and self._pd.thread is not None and self._pd.is_online())
