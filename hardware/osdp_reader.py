"""OSDP card readers (``reader.protocol = "osdp"``): a libosdp control panel per serial line.

Readers on one RS-485 line (same ``port``) are one multi-drop bus and share one libosdp
``ControlPanel``; ``OsdpBus`` owns it, rebuilds it when a reader joins or leaves, and tears
it down (libosdp's threads are not daemons) when the last reader on the line stops.

Threads: libosdp's CP thread refreshes every 20 ms and calls our event handler while it
holds the CP lock, so the handler only timestamps the event and queues it; calling back
into libosdp from there (feedback -> submit_command) would deadlock. One worker thread
per bus ("reader-osdp-<port>") delivers the queued events to the readers and, every
``SUPERVISE_S``, refreshes each reader's online / secure state and restarts the connection
of offline readers (libosdp 3.2.9 waits 300 s before retrying a PD that dropped out).

Stale reads (libosdp #133): a reader that lost the control panel keeps card reads queued
and sends them as soon as it is polled again, minutes late, with nothing marking them as
old; ``CardRead.read_at`` is only the time libosdp handed them to us. So a read that
arrives while we consider the reader offline, or within ``SETTLE_S`` after it (re)comes
online, is discarded as "stale" and counted. Why 2 s: the PD answers each poll with one
queued event and the CP polls every ~50-100 ms, so a backlog drains in well under 2 s,
while a person who really presents a card at that moment only has to present it again.
"Online" is libosdp's view *and* a reply heard within ``LINK_TIMEOUT_S`` (see
osdp_channel.py), so a link cut for more than 2 s counts as an outage even before
libosdp notices (it takes ~8 s), and reads queued during it are discarded too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from osdp import (
    Command, CommandLEDColor, ControlPanel, Event, EventNotification, LibFlag, LogLevel,
    PDInfo, StatusReportType,
)

from hardware.base import CardRead, CardReader, Feedback, HardwareInitError
from hardware.osdp_channel import SerialChannel
from zones.config import ReaderSection

if TYPE_CHECKING:
    from hardware.sim_osdp import OsdpReaderSim

log = logging.getLogger(__name__)

SETTLE_S = 2.0          # reads delivered this soon after (re)coming online are stale
LINK_TIMEOUT_S = 2.0    # no reply heard for this long: offline (libosdp needs ~8 s)
SUPERVISE_S = 0.2
RETRY_MIN_S, RETRY_MAX_S = 2.0, 10.0   # restart of an offline PD's connection, backing off
REFUSED_AFTER_S = 3.0   # answering but still not online after this: say so in health
FEEDBACK_S = 3.0        # how long granted / denied colours stay on the reader

# -- feedback as libosdp commands (OSDP osdp_LED / osdp_BUZ; times in units of 100 ms) --


def _led(color: int, *, temporary: bool, on: int = 10, off: int = 0,
         off_color: int = CommandLEDColor.Black, code: int | None = None) -> dict[str, Any]:
    cmd = {"command": Command.LED, "reader": 0, "led_number": 0, "temporary": temporary,
           "control_code": code if code is not None else (2 if temporary else 1),
           "on_count": on, "off_count": off, "on_color": color, "off_color": off_color}
    if temporary:
        cmd["timer_count"] = int(FEEDBACK_S * 10)
    return cmd


def _beeps(n: int) -> dict[str, Any]:
    return {"command": Command.Buzzer, "reader": 0, "control_code": 2,   # 2 = default tone
            "on_count": 2, "off_count": 2, "rep_count": n}


# on_count and off_count both 0 fails the PD's validation (NAK), and libosdp 3.2.9 then
# drops the PD for 300 s: "off" is a steady black.
_LED_OFF = _led(CommandLEDColor.Black, temporary=False)
FEEDBACK_COMMANDS: dict[str, list[dict[str, Any]]] = {
    # temporary colour first (what the person sees), then the sound, then clear any
    # "waiting" pattern underneath so it does not come back when the colour times out.
    "granted": [_led(CommandLEDColor.Green, temporary=True), _beeps(1), _LED_OFF],
    "denied": [_led(CommandLEDColor.Red, temporary=True), _beeps(3), _LED_OFF],
    # permanent amber flashing until the controller says idle / granted / denied (R10)
    "waiting": [_led(CommandLEDColor.Amber, temporary=False, on=5, off=5)],
    # control code 1 on the temporary part cancels a running temporary colour
    "idle": [_led(CommandLEDColor.Black, temporary=True, code=1), _LED_OFF],
}

_buses: dict[str, OsdpBus] = {}
_buses_lock = threading.Lock()


def card_number(event: dict[str, Any]) -> str:
    """The card number of a CardRead event: its data bytes in upper-case hex. A Wiegand
    read of n bits arrives MSB first, left-aligned in ceil(n/8) bytes, padding bits 0."""
    return bytes(event["data"]).hex().upper()


class OsdpBus:
    """One serial line, its libosdp ControlPanel and the readers on it, by address."""

    def __init__(self, port: str, baud: int) -> None:
        self.port = port
        self.baud = baud
        self.channel = SerialChannel(port, baud)
        self.readers: dict[int, OsdpCardReader] = {}
        self._cp: ControlPanel | None = None
        self._lock = threading.RLock()       # guards _cp (rebuilds) and readers
        self._events: queue.Queue[tuple[int, dict[str, Any], float]] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._retry: dict[int, tuple[float, float]] = {}   # address -> (last restart, wait)

    # -- membership (module functions join / leave hold _buses_lock) -----------------

    def add(self, reader: OsdpCardReader) -> None:
        with self._lock:
            other = self.readers.get(reader.address)
            if other is not None and other is not reader:
                raise HardwareInitError(
                    f"OSDP address {reader.address} on {self.port} is used by both "
                    f"{other.reader_id} and {reader.reader_id}")
            if reader.baud != self.baud:
                log.warning("osdp %s: %s asks for %d baud, the line runs at %d",
                            self.port, reader.reader_id, reader.baud, self.baud)
            self.readers[reader.address] = reader
            self._rebuild()
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name=f"reader-osdp-{self.port}")
            self._worker.start()

    def remove(self, reader: OsdpCardReader) -> bool:
        """Drop ``reader``; returns True when the line is now empty and torn down."""
        with self._lock:
            if self.readers.get(reader.address) is reader:
                del self.readers[reader.address]
            if self.readers:
                self._rebuild()
                return False
        self.teardown()
        return True

    def _rebuild(self) -> None:
        self._teardown_cp()
        addresses = sorted(self.readers)
        infos = [PDInfo(a, self.channel, scbk=self.readers[a].scbk, flags=self.readers[a].flags)
                 for a in addresses]
        events = self._events

        def on_event(index: int, event: dict[str, Any]) -> int:
            # libosdp's CP thread, CP lock held: timestamp and queue, nothing else.
            try:
                events.put((addresses[index], event, time.monotonic()))
            except Exception:  # noqa: BLE001 - never let an exception reach libosdp
                log.exception("osdp %s: event handler", self.port)
            return 0

        try:
            cp = ControlPanel(infos, log_level=LogLevel.Error, event_handler=on_event)
        except Exception as err:  # noqa: BLE001 - libosdp raises bare Exception
            raise HardwareInitError(f"libosdp control panel for {self.port}: {err}") from err
        cp.start()
        self._cp = cp
        for reader in self.readers.values():
            reader._reset_link()     # a new CP starts from offline: settle again
        self._retry = {a: (time.monotonic(), RETRY_MIN_S) for a in addresses}

    def _teardown_cp(self) -> None:
        cp, self._cp = self._cp, None
        if cp is not None and cp.thread is not None:
            cp.teardown()

    def teardown(self) -> None:
        """Stop the ControlPanel, the worker and close the port. Idempotent."""
        try:
            with self._lock:
                self._teardown_cp()
        finally:
            self.channel.close()
            self._stop.set()
            worker = self._worker
            if worker is not None and worker is not threading.current_thread():
                worker.join(timeout=2)

    # -- used by the readers ---------------------------------------------------------

    def submit(self, address: int, commands: list[dict[str, Any]]) -> bool:
        with self._lock:
            cp = self._cp
            if cp is None:
                return False
            return all([cp.submit_command(address, cmd) for cmd in commands])

    def lib_state(self, address: int) -> tuple[bool, bool]:
        """(online, secure) as libosdp sees the PD at ``address``."""
        with self._lock:
            cp = self._cp
            if cp is None or address not in cp.pd_addr:
                return False, False
            return cp.is_online(address), cp.is_sc_active(address)

    # -- the worker ------------------------------------------------------------------

    def _run(self) -> None:
        next_check = 0.0
        while not self._stop.is_set():
            try:
                address, event, at = self._events.get(timeout=SUPERVISE_S)
            except queue.Empty:
                pass
            else:
                reader = self.readers.get(address)
                if reader is not None:
                    reader._on_event(event, at)
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + SUPERVISE_S
                try:
                    self._supervise()
                except Exception:  # noqa: BLE001 - keep supervising whatever happens
                    log.exception("osdp %s: supervision", self.port)

    def _supervise(self) -> None:
        with self._lock:
            cp = self._cp
            if cp is None:
                return
            now = time.monotonic()
            for address, reader in list(self.readers.items()):
                while cp.get_event(address, timeout=-1) is not None:
                    pass   # libosdp also queues every event for get_event(); we use the handler
                online, secure = cp.is_online(address), cp.is_sc_active(address)
                reader._update_state(now, online, secure)
                if online:
                    self._retry[address] = (now, RETRY_MIN_S)
                    continue
                # libosdp waits up to 300 s before retrying a PD that went offline:
                # disable + enable makes it try again now (enable once disable took effect).
                last, wait = self._retry.get(address, (now, RETRY_MIN_S))
                if not cp.is_pd_enabled(address):
                    cp.enable_pd(address)
                elif now - last >= wait:
                    cp.disable_pd(address)
                    self._retry[address] = (now, min(wait * 2, RETRY_MAX_S))


def join(reader: OsdpCardReader) -> OsdpBus:
    with _buses_lock:
        bus = _buses.get(reader.port)
        if bus is None:
            bus = _buses[reader.port] = OsdpBus(reader.port, reader.baud)
        try:
            bus.add(reader)
        except BaseException:
            if not bus.readers:
                _buses.pop(reader.port, None)
                bus.teardown()
            raise
        return bus


def leave(reader: OsdpCardReader) -> None:
    with _buses_lock:
        bus = _buses.get(reader.port)
        if bus is not None and bus.remove(reader):
            _buses.pop(reader.port, None)


class OsdpCardReader(CardReader):
    """One OSDP reader (a PD at ``section.address`` on ``section.port``)."""

    def __init__(self, reader_id: str, section: ReaderSection,
                 sim: OsdpReaderSim | None = None) -> None:
        self.reader_id = reader_id
        self.port = section.port
        self.baud = section.baud
        self.address = section.address
        self.scbk = bytes.fromhex(section.scbk) if section.scbk else None
        self.install_mode = section.install_mode
        # EnforceSecure: never fall back to the default key or to plain text. Install
        # mode leaves it off so a new reader can take our key once (see the README).
        self.flags = [LibFlag.EnableNotification]
        if self.scbk is not None and not self.install_mode:
            self.flags.append(LibFlag.EnforceSecure)
        self.sim = sim
        self._bus: OsdpBus | None = None
        self._on_card: Callable[[CardRead], None] | None = None
        self._lock = threading.Lock()
        self._online = False
        self._secure = False
        self._online_since: float | None = None
        self._offline_since: float | None = None
        self._frames = 0
        self._discarded: Counter[str] = Counter()
        self._last_error: str | None = None
        self._tamper: str | None = None
        self._power: str | None = None

    def start(self, on_card: Callable[[CardRead], None]) -> None:
        if self._bus is not None:
            return
        if self.sim is not None:
            self.sim.start()
        self._on_card = on_card
        self._bus = join(self)
        log.info("osdp reader %s: address %d on %s (%s)", self.reader_id, self.address,
                 self.port, "secure" if self.scbk else "plain")

    def stop(self) -> None:
        bus, self._bus = self._bus, None
        try:
            if bus is not None:
                leave(self)
        finally:
            if self.sim is not None:
                self.sim.shutdown()
            self._reset_link()

    def feedback(self, what: Feedback) -> None:
        bus = self._bus
        ok = bus is not None and bus.submit(self.address, FEEDBACK_COMMANDS[what])
        if not ok:
            self._error(f"feedback {what!r} not delivered: reader offline")

    def health(self) -> dict[str, object]:
        bus = self._bus
        with self._lock:
            return {
                "online": self._online,
                "secure": self._secure,
                "protocol": "osdp",
                "port": self.port,
                "address": self.address,
                "install_mode": self.install_mode,
                "frames": self._frames,
                "discarded": sum(self._discarded.values()),
                "discarded_by_reason": dict(self._discarded),
                "last_error": self._last_error or (bus.channel.last_error if bus else None),
                "tamper": self._tamper,
                "power": self._power,
                "last_seen": bus.channel.last_reply.get(self.address) if bus else None,
                "online_since": self._online_since,
            }

    # -- called by the bus worker ----------------------------------------------------

    def _error(self, message: str) -> None:
        with self._lock:
            changed = message != self._last_error
            self._last_error = message
        if changed:
            log.warning("osdp reader %s: %s", self.reader_id, message)

    def _reset_link(self) -> None:
        with self._lock:
            self._online = self._secure = False
            self._online_since = self._offline_since = None

    def _update_state(self, now: float, lib_online: bool, lib_secure: bool) -> None:
        bus = self._bus
        heard = bus.channel.last_reply.get(self.address) if bus else None
        link_ok = heard is not None and now - heard < LINK_TIMEOUT_S
        online = lib_online and link_ok
        with self._lock:
            was = self._online
            self._online, self._secure = online, online and lib_secure
            if online and not was:
                self._online_since = now
                self._offline_since = None
                self._last_error = None
            elif not online:
                self._online_since = None
        if online != was:
            log.log(logging.INFO if online else logging.WARNING, "osdp reader %s: %s%s",
                    self.reader_id, "online" if online else "offline",
                    " (secure channel)" if online and lib_secure else "")
        if not online:
            with self._lock:
                if self._offline_since is None:
                    self._offline_since = now
                refused = now - self._offline_since > REFUSED_AFTER_S
            if link_ok and refused:   # not during a handshake still in progress
                self._error("reader answers but is not online (wrong SCBK, or install mode needed?)")
            elif heard is not None:
                self._error(f"no reply from address {self.address} for {now - heard:.0f} s")

    def _on_event(self, event: dict[str, Any], at: float) -> None:
        kind = event.get("event")
        if kind == Event.CardRead:
            self._card(event, at)
        elif kind == Event.Status and event.get("type") == StatusReportType.Local:
            report = bytes(event.get("report", b""))
            with self._lock:   # osdp_LSTATR: [tamper, power], 0 = normal
                self._tamper = "tamper" if report[:1] == b"\x01" else "normal"
                self._power = "failure" if report[1:2] == b"\x01" else "normal"
            log.warning("osdp reader %s: tamper %s, power %s", self.reader_id,
                        self._tamper, self._power)
        elif kind == Event.Notification and event.get("type") in (
                EventNotification.PeripheralDeviceStatus, EventNotification.SecureChannelStatus):
            bus = self._bus
            if bus is not None:
                self._update_state(time.monotonic(), *bus.lib_state(self.address))

    def _card(self, event: dict[str, Any], at: float) -> None:
        bus = self._bus
        if bus is None:
            return
        # A read can only come from a PD libosdp has online; if we had not noticed the
        # PD come back yet, this refresh starts the settle period and the read is stale.
        self._update_state(time.monotonic(), *bus.lib_state(self.address))
        with self._lock:
            since = self._online_since
            if since is None or at - since < SETTLE_S:
                reason = "stale"          # libosdp #133: queued while the link was down
            elif self.scbk is not None and not self._secure:
                reason = "insecure"       # a key is configured: plain-text reads don't count
            elif not event.get("data"):
                reason = "empty"
            else:
                reason = None
                self._frames += 1
            if reason:
                self._discarded[reason] += 1
        if reason:
            log.info("osdp reader %s: card read discarded (%s)", self.reader_id, reason)
            return
        read = CardRead(self.reader_id, card_number(event), read_at=at)
        try:
            if self._on_card is not None:
                self._on_card(read)
        except Exception:  # noqa: BLE001 - the contract: log, keep the reader running
            log.exception("osdp reader %s: on_card failed", self.reader_id)


def make_osdp_reader(gate_id: str, section: ReaderSection, sim: bool) -> OsdpCardReader:
    """The reader for one gate. With ``sim`` (``port = "sim"``) it also builds a simulated
    reader (``reader.sim``, an OsdpReaderSim with the same address and key) on a fresh
    pty and points the reader at it; both start with ``reader.start`` and stop with
    ``reader.stop``. No thread starts here (the sim's pty is created)."""
    if not sim:
        return OsdpCardReader(gate_id, section)
    from hardware.sim_osdp import OsdpReaderSim

    simulated = OsdpReaderSim(address=section.address, scbk=section.scbk,
                              install_mode=section.install_mode)
    return OsdpCardReader(gate_id, section.model_copy(update={"port": simulated.port}),
                          sim=simulated)
