"""The byte channel libosdp's control panel talks through: ``SerialChannel``, a pyserial port
(RS-485 adapter, pty, or any pyserial URL such as ``socket://host:port``). The control
panel and the readers sharing one line are in osdp_bus.py.

libosdp calls ``read`` / ``write`` / ``flush`` from its refresh thread every 20 ms while
holding its own lock, so none of them may block or raise (an exception escaping into
libosdp's C callback stays pending and breaks the next Python call it makes, e.g. leaves
a queue's lock held; pyserial raises termios.error, not an OSError, from a dead pty): a
port that cannot be opened or that breaks (USB adapter pulled) is closed, retried at most
once a second, and reported in ``last_error``; meanwhile reads return nothing and writes
report failure, which libosdp turns into "no reply" and, in time, "PD offline".

Besides carrying bytes, the channel notes when each peripheral last answered (``last_reply``
by address). libosdp only declares a PD offline after about 8 s of unanswered probes; the
reader uses these timestamps to see a dead link within ``LINK_TIMEOUT_S`` (see
osdp_reader.py). It recognises a reply by its header only: SOM 0x53 followed by the PD's
address with the reply bit 0x80 set (OSDP v2 packet layout). Our own commands, echoed back
by RS-485 adapters without echo suppression, have the reply bit clear and never count.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import cast

import serial
from osdp import Channel

log = logging.getLogger(__name__)

REOPEN_INTERVAL_S = 1.0
WRITE_TIMEOUT_S = 0.5  # a stuck port must not stall libosdp's refresh thread for long
_SOM = 0x53  # OSDP start of message
_REPLY_BIT = 0x80


class SerialChannel(Channel):
    """libosdp ``Channel`` over ``serial.serial_for_url(url, baud)``. Never raises."""

    def __init__(self, url: str, baud: int = 9600) -> None:
        super().__init__()
        self.url = url
        self.baud = baud
        self.last_reply: dict[int, float] = {}  # PD address -> time.monotonic()
        self.last_error: str | None = None
        self.packets_sent = 0  # libosdp writes one packet per call
        self._port: serial.Serial | None = None
        self._next_open = 0.0
        self._carry = b""  # last byte of the previous read (SOM split)
        self._lock = threading.Lock()  # close() may come from another thread

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def _ensure_open(self) -> serial.Serial | None:
        if self._port is not None:
            return self._port
        now = time.monotonic()
        if now < self._next_open:
            return None
        self._next_open = now + REOPEN_INTERVAL_S
        try:
            # every pyserial port class has in_waiting / reset_input_buffer; the stubs type the base
            self._port = cast(
                serial.Serial, serial.serial_for_url(self.url, self.baud, timeout=0, write_timeout=WRITE_TIMEOUT_S)
            )
        except Exception as err:  # noqa: BLE001 - see the module docstring
            self._fail(f"cannot open {self.url}: {err}")
            return None
        if self.last_error:
            log.info("osdp channel %s open again", self.url)
        self.last_error = None
        return self._port

    def _fail(self, message: str) -> None:
        if message != self.last_error:
            log.warning("osdp channel: %s", message)
        self.last_error = message
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken port; already reported
                pass

    # -- the three calls libosdp makes ------------------------------------------------

    def read(self, max_bytes: int) -> bytes:
        with self._lock:
            port = self._ensure_open()
            if port is None:
                return b""
            try:
                waiting = port.in_waiting
                data = port.read(min(max_bytes, waiting)) if waiting else b""
            except Exception as err:  # noqa: BLE001 - see the module docstring
                self._fail(f"read from {self.url} failed: {err}")
                return b""
        if data:
            self._note_replies(data)
        return data

    def write(self, buf: bytes) -> int:
        with self._lock:
            port = self._ensure_open()
            if port is None:
                return 0
            self.packets_sent += 1
            try:
                return port.write(buf) or 0
            except Exception as err:  # noqa: BLE001 - see the module docstring
                self._fail(f"write to {self.url} failed: {err}")
                return 0

    def flush(self) -> None:
        # libosdp flushes before each command to drop stale or garbled input.
        with self._lock:
            if self._port is None:
                return
            try:
                self._port.reset_input_buffer()
            except Exception as err:  # noqa: BLE001 - see the module docstring
                self._fail(f"flush of {self.url} failed: {err}")
        self._carry = b""

    # -- ours --------------------------------------------------------------------------

    def _note_replies(self, data: bytes) -> None:
        buf = self._carry + data
        now = time.monotonic()
        i = buf.find(_SOM)
        while 0 <= i < len(buf) - 1:
            addr = buf[i + 1]
            if addr & _REPLY_BIT:
                self.last_reply[addr & 0x7F] = now
            i = buf.find(_SOM, i + 1)
        self._carry = buf[-1:]

    def close(self) -> None:
        """Close the port (idempotent). Call only after libosdp stopped using the channel."""
        with self._lock:
            port, self._port = self._port, None
            self._next_open = float("inf")
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass
