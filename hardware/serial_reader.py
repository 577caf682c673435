"""Serial card readers (``em4100`` and ``line`` protocols) over pyserial.

Usage::

    reader = SerialCardReader("smelting-east", "em4100", "/dev/ttyUSB0", baud=9600)
    reader.start(on_card)        # on_card(CardRead) is called in the reader's thread
    reader.health()              # {"online": True, "frames": 3, "discarded": 1, ...}
    reader.stop()

``port`` is a device path or any pyserial URL (``loop://``, ``socket://host:port``). The
reader owns one daemon thread that opens the port, reads whatever bytes are waiting, feeds
them to the protocol's framer (hardware.framing) and delivers each complete card. A port
that is missing or goes away (USB unplugged, pty closed, socket reset) is reopened with a
backoff of 0.2 s doubling to 2 s; ``start`` never raises for it (hardware.base.CardReader).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import cast

import serial

from hardware.base import CardRead, CardReader
from hardware.framing import make_framer

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 2.0
READ_TIMEOUT_S = 0.05  # bounds how long stop() waits for the read loop


class SerialCardReader(CardReader):
    """A card reader on a serial port speaking ``protocol`` ("em4100" or "line")."""

    def __init__(self, reader_id: str, protocol: str, port: str, baud: int = 9600) -> None:
        self.reader_id = reader_id
        self.protocol = protocol
        self.port = port
        self.baud = baud
        self._framer = make_framer(protocol)  # ValueError for an unknown protocol, early
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards the counters health() reads
        self._online = False
        self._frames = 0
        self._reconnects = 0
        self._last_error: str | None = None

    def start(self, on_card: Callable[[CardRead], None]) -> None:
        """Start the reader thread. Calling it again while running does nothing."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(on_card,), name=f"reader-{self.reader_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and close the port; returns within ~0.1 s. Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def health(self) -> dict[str, object]:
        with self._lock:
            by_reason = dict(self._framer.discarded)
            return {
                "online": self._online,
                "port": self.port,
                "protocol": self.protocol,
                "frames": self._frames,
                "discarded": sum(by_reason.values()),
                "discarded_by_reason": by_reason,
                "last_error": self._last_error,
                "reconnects": self._reconnects,
            }

    # -- the reader thread --------------------------------------------------------------

    def _run(self, on_card: Callable[[CardRead], None]) -> None:
        backoff = BACKOFF_MIN_S
        opened_before = False
        while not self._stop.is_set():
            try:
                # every pyserial port class (device, loop://, socket://) has in_waiting; the stubs type the base
                port = cast(serial.Serial, serial.serial_for_url(self.port, self.baud, timeout=READ_TIMEOUT_S))
            except (serial.SerialException, OSError, ValueError) as err:
                self._set_error(f"cannot open {self.port}: {err}")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            with self._lock:
                self._online = True
                if opened_before:
                    self._reconnects += 1
            opened_before = True
            backoff = BACKOFF_MIN_S
            log.info("reader %s: %s open", self.reader_id, self.port)
            try:
                self._read_loop(port, on_card)
            except (serial.SerialException, OSError) as err:
                self._set_error(f"{self.port} lost: {err}")
                with self._lock:
                    self._framer.reset()  # a frame cut by the outage must not complete later
            finally:
                with self._lock:
                    self._online = False
                port.close()
            if not self._stop.is_set():
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _read_loop(self, port: serial.Serial, on_card: Callable[[CardRead], None]) -> None:
        while not self._stop.is_set():
            # read what is waiting, or block up to READ_TIMEOUT_S for one byte: read(64)
            # would wait out the timeout on every card (hardware-notes).
            data = port.read(port.in_waiting or 1)
            if not data:
                continue
            with self._lock:
                cards = self._framer.feed(data)
            if not cards:
                continue
            read_at = time.monotonic()  # the moment the frame completed on our side
            for card in cards:
                with self._lock:
                    self._frames += 1
                try:
                    on_card(CardRead(self.reader_id, card, read_at=read_at))
                except Exception:  # a controller bug must not kill the reader
                    log.exception("reader %s: on_card failed for a read", self.reader_id)

    def _set_error(self, message: str) -> None:
        with self._lock:
            changed = message != self._last_error
            self._last_error = message
        # log each distinct error once, not on every retry of a missing port
        (log.warning if changed else log.debug)("reader %s: %s", self.reader_id, message)
