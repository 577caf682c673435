"""OSDP card readers (``reader.protocol = "osdp"``): one libosdp PD per reader, seen
through the control panel of its line (``OsdpBus`` in osdp_bus.py, shared by every
reader on the same ``port``: RS-485 multi-drop, addresses 0-126). The readers of one
process find their lines through the ``OsdpLines`` they are given.

Feedback is libosdp LED / buzzer commands: granted = green + 1 beep, denied = red + 3
beeps, waiting (R10 escort window) = amber flashing until idle / granted / denied.

Stale reads (libosdp #133): a reader that lost the control panel keeps card reads queued
and sends them as soon as it is polled again, minutes late, with nothing marking them as
old; ``CardRead.read_at`` is only the time libosdp handed them to us. So a read that
arrives while we consider the reader offline, or within ``SETTLE_S`` after it (re)comes
online, is discarded as "stale" and counted. Why 2 s: the PD answers each poll with one
queued event and the CP polls every ~100 ms, so a backlog of a dozen reads drains in
about a second, while a person who really presents a card at that moment only has to
present it again. "Online" is libosdp's view *and* a reply heard within
``LINK_TIMEOUT_S`` (``SerialChannel.last_reply`` in osdp_channel.py), so a link cut for
more than 2 s counts as an outage even before libosdp notices (it takes ~8 s), and reads
queued during it are discarded too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from osdp import Command, CommandLEDColor, Event, EventNotification, LibFlag, StatusReportType

from hardware.base import CardRead, CardReader, Feedback
from hardware.osdp_bus import OsdpBus, OsdpLines

log = logging.getLogger(__name__)

SETTLE_S = 2.0  # reads delivered this soon after (re)coming online are stale
LINK_TIMEOUT_S = 2.0  # no reply heard for this long: offline (libosdp needs ~8 s)
REFUSED_AFTER_S = 3.0  # answering but still not online after this: say so in health
FEEDBACK_S = 3.0  # how long granted / denied colours stay on the reader

# -- feedback as libosdp commands (OSDP osdp_LED / osdp_BUZ; times in units of 100 ms) --


def _led(
    color: int,
    *,
    temporary: bool,
    on: int = 10,
    off: int = 0,
    off_color: int = CommandLEDColor.Black,
    code: int | None = None,
) -> dict[str, Any]:
    cmd = {
        "command": Command.LED,
        "reader": 0,
        "led_number": 0,
        "temporary": temporary,
        "control_code": code if code is not None else (2 if temporary else 1),
        "on_count": on,
        "off_count": off,
        "on_color": color,
        "off_color": off_color,
    }
    if temporary:
        cmd["timer_count"] = int(FEEDBACK_S * 10)
    return cmd


def _beeps(n: int) -> dict[str, Any]:
    return {
        "command": Command.Buzzer,
        "reader": 0,
        "control_code": 2,  # 2 = default tone
        "on_count": 2,
        "off_count": 2,
        "rep_count": n,
    }


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


CARD_DATA_MAX = 32  # bytes: a 256-bit read, far beyond any card format in use


def card_number(event: dict[str, Any]) -> str | None:
    """The card number of a CardRead event: its data bytes in upper-case hex. A Wiegand
    read of n bits arrives MSB first, left-aligned in ceil(n/8) bytes, padding bits 0.
    None for data that is no card read (missing, empty, not bytes, longer than
    ``CARD_DATA_MAX``): a malformed event is discarded, never decided on."""
    data = event.get("data")
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
    elif isinstance(data, (list, tuple)) and all(isinstance(b, int) and 0 <= b <= 255 for b in data):
        raw = bytes(data)
    else:
        return None
    return raw.hex().upper() if 0 < len(raw) <= CARD_DATA_MAX else None


class OsdpCardReader(CardReader):
    """One OSDP reader: the PD at ``address`` on ``port`` (a device path or pyserial URL),
    on the bus ``lines`` keeps for that port. ``scbk``: the secure channel base key (16
    bytes), None for a reader without secure channel. ``install_mode``: let a new reader
    take ``scbk`` once (see the README)."""

    def __init__(
        self,
        reader_id: str,
        port: str,
        lines: OsdpLines,
        *,
        baud: int = 9600,
        address: int = 0,
        scbk: bytes | None = None,
        install_mode: bool = False,
    ) -> None:
        self.reader_id = reader_id
        self.port = port
        self.baud = baud
        self.address = address
        self.scbk = scbk
        self.install_mode = install_mode
        # EnforceSecure: never fall back to the default key or to plain text. Install
        # mode leaves it off so a new reader can take our key once (see the README).
        self.flags = [LibFlag.EnableNotification]
        if self.scbk is not None and not self.install_mode:
            self.flags.append(LibFlag.EnforceSecure)
        self._lines = lines
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
        self._on_card = on_card
        self._bus = self._lines.join(self)
        log.info(
            "osdp reader %s: address %d on %s (%s)",
            self.reader_id,
            self.address,
            self.port,
            "secure" if self.scbk else "plain",
        )

    def stop(self) -> None:
        bus, self._bus = self._bus, None
        try:
            if bus is not None:
                self._lines.leave(self)
        finally:
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
            log.log(
                logging.INFO if online else logging.WARNING,
                "osdp reader %s: %s%s",
                self.reader_id,
                "online" if online else "offline",
                " (secure channel)" if online and lib_secure else "",
            )
        if not online:
            with self._lock:
                if self._offline_since is None:
                    self._offline_since = now
                refused = now - self._offline_since > REFUSED_AFTER_S
            if link_ok and refused:  # not during a handshake still in progress
                self._error("reader answers but is not online (wrong SCBK, or install mode needed?)")
            elif not link_ok and heard is not None:
                self._error(f"no reply from address {self.address} for {now - heard:.0f} s")

    def _on_event(self, event: dict[str, Any], at: float) -> None:
        kind = event.get("event")
        if kind == Event.CardRead:
            self._card(event, at)
        elif kind == Event.Status and event.get("type") == StatusReportType.Local:
            report = bytes(event.get("report", b""))
            with self._lock:  # osdp_LSTATR: [tamper, power], 0 = normal
                self._tamper = "tamper" if report[:1] == b"\x01" else "normal"
                self._power = "failure" if report[1:2] == b"\x01" else "normal"
            log.warning("osdp reader %s: tamper %s, power %s", self.reader_id, self._tamper, self._power)
        elif kind == Event.Notification and event.get("type") in (
            EventNotification.PeripheralDeviceStatus,
            EventNotification.SecureChannelStatus,
        ):
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
        card = card_number(event)
        with self._lock:
            since = self._online_since
            if since is None or at - since < SETTLE_S:
                reason = "stale"  # libosdp #133: queued while the link was down
            elif self.scbk is not None and not self._secure:
                reason = "insecure"  # a key is configured: plain-text reads don't count
            elif not event.get("data"):
                reason = "empty"
            elif card is None:
                reason = "malformed"
            else:
                reason = None
                self._frames += 1
            if reason:
                self._discarded[reason] += 1
        if reason or card is None:  # card is None only with a reason (empty, malformed)
            log.info("osdp reader %s: card read discarded (%s)", self.reader_id, reason)
            return
        read = CardRead(self.reader_id, card, read_at=at)
        try:
            if self._on_card is not None:
                self._on_card(read)
        except Exception:  # noqa: BLE001 - the contract: log, keep the reader running
            log.exception("osdp reader %s: on_card failed", self.reader_id)
