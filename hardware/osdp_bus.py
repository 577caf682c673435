"""One OSDP line: ``OsdpBus``, the libosdp ControlPanel shared by the readers on one serial
port (an RS-485 multi-drop line, addresses 0-126) with its worker thread, and ``OsdpLines``,
the buses of one process by port, which readers join and leave.

The bus rebuilds its ControlPanel when a reader joins or leaves, and tears it down
(libosdp's threads are not daemons) when the last reader on the line leaves.

Threads: libosdp's CP thread refreshes every 20 ms and calls our event handler while it
holds the CP lock, so the handler only timestamps the event and queues it; calling back
into libosdp from there (feedback -> submit_command) would deadlock. One worker thread
per bus ("reader-osdp-<port>") hands the queued events to the readers by address and,
every ``SUPERVISE_S``, refreshes each reader's online / secure state and restarts the
connection of offline readers (libosdp 3.2.9 waits 300 s before retrying a PD that
dropped out, and after a NAK).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from osdp import ControlPanel, LogLevel, PDInfo

from hardware.base import HardwareInitError
from hardware.osdp_channel import SerialChannel

if TYPE_CHECKING:
    from hardware.osdp_reader import OsdpCardReader

log = logging.getLogger(__name__)

SUPERVISE_S = 0.2
RETRY_MIN_S, RETRY_MAX_S = 2.0, 10.0  # restart of an offline PD's connection, backing off


class OsdpBus:
    """One serial line, its libosdp ControlPanel and the readers on it, by address."""

    def __init__(self, port: str, baud: int) -> None:
        self.port = port
        self.baud = baud
        self.channel = SerialChannel(port, baud)
        self.readers: dict[int, OsdpCardReader] = {}
        self._cp: ControlPanel | None = None
        self._lock = threading.RLock()  # guards _cp (rebuilds) and readers
        self._events: queue.Queue[tuple[int, dict[str, Any], float]] = queue.Queue()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._retry: dict[int, tuple[float, float]] = {}  # address -> (last restart, wait)

    # -- membership (OsdpLines.join / leave hold the lines' lock) --------------------

    def add(self, reader: OsdpCardReader) -> None:
        with self._lock:
            other = self.readers.get(reader.address)
            if other is not None and other is not reader:
                raise HardwareInitError(
                    f"OSDP address {reader.address} on {self.port} is used by both "
                    f"{other.reader_id} and {reader.reader_id}"
                )
            if reader.baud != self.baud:
                log.warning(
                    "osdp %s: %s asks for %d baud, the line runs at %d",
                    self.port,
                    reader.reader_id,
                    reader.baud,
                    self.baud,
                )
            self.readers[reader.address] = reader
            try:
                self._rebuild()
            except BaseException:
                del self.readers[reader.address]
                if self.readers:
                    self._rebuild()
                raise
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name=f"reader-osdp-{self.port}")
            self._worker.start()

    def remove(self, reader: OsdpCardReader) -> bool:
        """Drop ``reader``; returns True when the line is now empty and torn down."""
        with self._lock:
            if self.readers.get(reader.address) is not reader:
                return False
            del self.readers[reader.address]
            if self.readers:
                self._rebuild()
                return False
        self.teardown()
        return True

    def _rebuild(self) -> None:
        self._teardown_cp()
        addresses = sorted(self.readers)
        infos = [PDInfo(a, self.channel, scbk=self.readers[a].scbk, flags=self.readers[a].flags) for a in addresses]
        events = self._events

        def on_event(index: int, event: dict[str, Any]) -> int:
            # libosdp's CP thread, CP lock held: timestamp and queue, nothing else.
            try:
                events.put((addresses[index], event, time.monotonic()))
            except Exception:  # noqa: BLE001 - never let an exception reach libosdp
                log.exception("osdp %s: event handler", self.port)
            return 0

        try:
            cp = ControlPanel(infos, log_level=LogLevel.Error)
        except Exception as err:  # noqa: BLE001 - libosdp raises bare Exception
            raise HardwareInitError(f"libosdp control panel for {self.port}: {err}") from err
        # Straight on the osdp_sys object: the Python wrapper's own handler also keeps every
        # event in an unbounded per-PD queue for get_event(), which we never call.
        cp.ctx.set_event_callback(on_event)
        cp.start()
        self._cp = cp
        for reader in self.readers.values():
            reader._reset_link()  # a new CP starts from offline: settle again
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
                try:
                    if reader is not None:
                        reader._on_event(event, at)
                except Exception:  # noqa: BLE001 - one bad event must not stop the line
                    log.exception("osdp %s: event %r", self.port, event.get("event"))
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


class OsdpLines:
    """The OSDP buses of one process, by port: readers on the same port share one bus.
    Whoever builds the readers owns one and hands it to each of them (sitegate wiring)."""

    def __init__(self) -> None:
        self._buses: dict[str, OsdpBus] = {}
        self._lock = threading.Lock()

    def join(self, reader: OsdpCardReader) -> OsdpBus:
        """Add ``reader`` to the bus of its port (created on first use). Raises
        HardwareInitError for an address already used on that line."""
        with self._lock:
            bus = self._buses.get(reader.port)
            if bus is None:
                bus = self._buses[reader.port] = OsdpBus(reader.port, reader.baud)
            try:
                bus.add(reader)
            except BaseException:
                if not bus.readers:
                    self._buses.pop(reader.port, None)
                    bus.teardown()
                raise
            return bus

    def leave(self, reader: OsdpCardReader) -> None:
        """Remove ``reader`` from its bus; the last one out tears the bus down."""
        with self._lock:
            bus = self._buses.get(reader.port)
            if bus is not None and bus.remove(reader):
                self._buses.pop(reader.port, None)

    def bus(self, port: str) -> OsdpBus | None:
        """The running bus on ``port``, if a reader joined it."""
        with self._lock:
            return self._buses.get(port)

    def __len__(self) -> int:
        """How many buses are running."""
        with self._lock:
            return len(self._buses)
