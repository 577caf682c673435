"""One OSDP line: the byte channel libosdp's control panel talks through (a pyserial port:
RS-485 adapter, pty, or any pyserial URL such as ``socket://host:port``) and ``OsdpBus``,
the libosdp ControlPanel shared by the readers on that line, with its worker thread.

Readers on one RS-485 line (same ``port``) are one multi-drop bus and share one libosdp
``ControlPanel``; ``join`` / ``leave`` keep a registry of buses by port. The bus rebuilds
its ControlPanel when a reader joins or leaves, and tears it down (libosdp's threads are
not daemons) when the last reader on the line leaves.

Threads: libosdp's CP thread refreshes every 20 ms and calls our event handler while it
holds the CP lock, so the handler only timestamps the event and queues it; calling back
into libosdp from there (feedback -> submit_command) would deadlock. One worker thread
per bus ("reader-osdp-<port>") hands the queued events to the readers by address and,
every ``SUPERVISE_S``, refreshes each reader's online / secure state and restarts the
connection of offline readers (libosdp 3.2.9 waits 300 s before retrying a PD that
dropped out, and after a NAK).

The channel:

libosdp calls ``read`` / ``write`` / ``flush`` from its refresh thread every 20 ms while
holding its own lock, so none of them may block or raise (an exception escaping into
libosdp's C callback stays pending and breaks the next Python call it makes, e.g. leaves
a queue's lock held; pyserial raises termios.error, not an OSError, from a dead pty): a port that cannot be opened or
that breaks (USB adapter pulled) is closed, retried at most once a second, and reported
in ``last_error``; meanwhile reads return nothing and writes report failure, which libosdp
turns into "no reply" and, in time, "PD offline".

Besides carrying bytes, the channel notes when each peripheral last answered (``last_reply``
by address). libosdp only declares a PD offline after about 8 s of unanswered probes; the
reader uses these timestamps to see a dead link within ``LINK_TIMEOUT_S`` (see
osdp_reader.py). It recognises a reply by its header only: SOM 0x53 followed by the PD's
address with the reply bit 0x80 set (OSDP v2 packet layout). Our own commands, echoed back
by RS-485 adapters without echo suppression, have the reply bit clear and never count.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

import serial
from osdp import Channel, ControlPanel, LogLevel, PDInfo

from hardware.base import HardwareInitError

if TYPE_CHECKING:
    from hardware.osdp_reader import OsdpCardReader

log = logging.getLogger(__name__)

REOPEN_INTERVAL_S = 1.0
SUPERVISE_S = 0.2
RETRY_MIN_S, RETRY_MAX_S = 2.0, 10.0   # restart of an offline PD's connection, backing off
WRITE_TIMEOUT_S = 0.5      # a stuck port must not stall libosdp's refresh thread for long
_SOM = 0x53                # OSDP start of message
_REPLY_BIT = 0x80


class SerialChannel(Channel):
    """libosdp ``Channel`` over ``serial.serial_for_url(url, baud)``. Never raises."""

    def __init__(self, url: str, baud: int = 9600) -> None:
        super().__init__()
        self.url = url
        self.baud = baud
        self.last_reply: dict[int, float] = {}   # PD address -> time.monotonic()
        self.last_error: str | None = None
        self.packets_sent = 0                      # libosdp writes one packet per call
        self._port: serial.SerialBase | None = None
        self._next_open = 0.0
        self._carry = b""                          # last byte of the previous read (SOM split)
        self._lock = threading.Lock()              # close() may come from another thread

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def _ensure_open(self) -> serial.SerialBase | None:
        if self._port is not None:
            return self._port
        now = time.monotonic()
        if now < self._next_open:
            return None
        self._next_open = now + REOPEN_INTERVAL_S
        try:
            self._port = serial.serial_for_url(
                self.url, self.baud, timeout=0, write_timeout=WRITE_TIMEOUT_S)
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
            cp = ControlPanel(infos, log_level=LogLevel.Error)
        except Exception as err:  # noqa: BLE001 - libosdp raises bare Exception
            raise HardwareInitError(f"libosdp control panel for {self.port}: {err}") from err
        # Straight on the osdp_sys object: the Python wrapper's own handler also keeps every
        # event in an unbounded per-PD queue for get_event(), which we never call.
        cp.ctx.set_event_callback(on_event)
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


_buses: dict[str, OsdpBus] = {}
_buses_lock = threading.Lock()


def join(reader: OsdpCardReader) -> OsdpBus:
    """Add ``reader`` to the bus of its port (created on first use). Raises
    HardwareInitError for an address already used on that line."""
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
    """Remove ``reader`` from its bus; the last one out tears the bus down."""
    with _buses_lock:
        bus = _buses.get(reader.port)
        if bus is not None and bus.remove(reader):
            _buses.pop(reader.port, None)
