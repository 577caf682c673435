"""Modbus I/O modules (turnstile release coils, passage and alarm inputs) over pymodbus.

The only module of SiteGate that imports the pymodbus client. Usage::

    io = module_for("tcp://127.0.0.1:5020", unit=1)   # shared per url: one connection
    io.write_coil(2, True)                            # release turnstile 2
    io.read_inputs(2)                                 # -> [False]: nobody passed yet
    io.connected                                      # did the last call reach the module?
    close_all()                                       # at shutdown

``url`` is ``tcp://HOST:PORT`` or ``rtu:///dev/ttyX?baud=9600`` (optional ``parity=N|E|O``,
``stopbits=1|2``, ``bytesize=7|8``). Calls are bounded by ``timeout`` (default 0.5 s) with
no retries, so a dead module costs one timeout, not seconds. Every failure surfaces as the
hardware.base hierarchy: ``HardwareInitError`` (cannot connect), ``HardwareTimeout`` (no
answer), ``HardwareOperationError`` (link broke, exception response, or still backing off).
After a link failure the connection is dropped and re-opened by a later call, at most once
per backoff period (0.1 s doubling to 2 s); a call during the backoff fails at once without
touching the wire, so a gate whose module is gone faults quickly and keeps entry locked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import serial
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from hardware.base import (
    HardwareError,
    HardwareInitError,
    HardwareOperationError,
    HardwareTimeout,
    IoModule,
)

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 2.0

Client = ModbusTcpClient | ModbusSerialClient


def make_client(url: str, timeout: float) -> Client:
    """A pymodbus sync client for ``url`` (not yet connected). Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if not parts.hostname or not parts.port:
            raise ValueError(f"expected tcp://HOST:PORT, got {url!r}")
        return ModbusTcpClient(parts.hostname, port=parts.port, timeout=timeout, retries=0)
    if parts.scheme == "rtu":
        if not parts.path:
            raise ValueError(f"expected rtu:///dev/ttyX?baud=9600, got {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return ModbusSerialClient(
            parts.path,
            framer=FramerType.RTU,
            baudrate=int(query.get("baud", 9600)),
            parity=query.get("parity", "N"),
            stopbits=int(query.get("stopbits", 1)),
            bytesize=int(query.get("bytesize", 8)),
            timeout=timeout,
            retries=0,
        )
    raise ValueError(f"unsupported Modbus url {url!r} (tcp://HOST:PORT or rtu:///dev/ttyX)")


class _Link:
    """One connection (TCP socket or serial port) with its lock and reconnect backoff.
    Several units / gates share it; the lock serialises their requests on the wire."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        make_client(url, timeout)  # validate the url now, not on the first release
        self.lock = threading.Lock()
        self.client: Client | None = None
        self.connected = False
        self.backoff = BACKOFF_MIN_S
        self.retry_at = 0.0
        self.last_error: str | None = None
        self.closed = False
        self.users = 0

    def ensure_client(self) -> Client:
        """The connected client; connects if the backoff allows. Call with the lock held."""
        if self.closed:
            raise HardwareOperationError(f"{self.url}: module closed")
        if self.client is not None:
            return self.client
        wait = self.retry_at - time.monotonic()
        if wait > 0:
            raise HardwareOperationError(f"{self.url}: unreachable ({self.last_error}); next try in {wait:.1f} s")
        client = make_client(self.url, self.timeout)
        try:
            ok = client.connect()
        except (OSError, serial.SerialException) as err:
            self.fail(client, f"cannot connect: {err}")
            raise HardwareInitError(f"{self.url}: cannot connect: {err}") from err
        if not ok:
            self.fail(client, "cannot connect")
            raise HardwareInitError(f"{self.url}: cannot connect")
        if self.last_error is not None:
            log.info("modbus %s: connected again", self.url)
        self.client = client
        return client

    def fail(self, client: Client | None, message: str) -> None:
        """Drop the connection after a link failure and start / grow the backoff."""
        if client is not None:
            client.close()
        self.client = None
        self.connected = False
        if message != self.last_error:
            log.warning("modbus %s: %s (retrying with backoff)", self.url, message)
        self.last_error = message
        self.retry_at = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX_S)

    def succeeded(self) -> None:
        self.connected = True
        self.backoff = BACKOFF_MIN_S
        self.last_error = None

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.connected = False
            if self.client is not None:
                self.client.close()
                self.client = None


class ModbusIoModule(IoModule):
    """One Modbus device (``unit``) behind ``url``. Thread-safe; see the module docstring."""

    def __init__(self, url: str, unit: int, timeout: float = 0.5, *, _link: _Link | None = None) -> None:
        self.url = url
        self.unit = unit
        self._link = _link or _Link(url, timeout)
        self._link.users += 1
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._link.connected

    @property
    def last_error(self) -> str | None:
        return self._link.last_error

    def write_coil(self, address: int, value: bool) -> None:
        self._call(f"write coil {address}={int(value)}", lambda c: c.write_coil(address, value, device_id=self.unit))

    def read_inputs(self, address: int, count: int = 1) -> list[bool]:
        response = self._call(
            f"read inputs {address}+{count}",
            lambda c: c.read_discrete_inputs(address, count=count, device_id=self.unit),
        )
        return [bool(b) for b in response.bits[:count]]

    def read_coils(self, address: int, count: int = 1) -> list[bool]:
        """Read back ``count`` coils (diagnostics and the health view)."""
        response = self._call(
            f"read coils {address}+{count}", lambda c: c.read_coils(address, count=count, device_id=self.unit)
        )
        return [bool(b) for b in response.bits[:count]]

    def close(self) -> None:
        """Release this module; the shared connection closes with its last user."""
        if self._closed:
            return
        self._closed = True
        self._link.users -= 1
        if self._link.users <= 0:
            self._link.close()
            _forget(self._link)

    def _call(self, what: str, op: Callable[[Client], Any]) -> Any:
        """Run ``op`` on the shared client under the link's lock, mapping every pymodbus
        failure onto the hardware.base errors (see the module docstring)."""
        link = self._link
        where = f"{self.url} unit {self.unit}: {what}"
        with link.lock:
            client = link.ensure_client()
            try:
                response = op(client)
            except ModbusIOException as err:  # no (valid) answer within the timeout
                link.fail(client, f"no answer: {err}")
                raise HardwareTimeout(f"{where}: no answer within {link.timeout} s") from err
            except ConnectionException as err:
                link.fail(client, f"link lost: {err}")
                raise HardwareOperationError(f"{where}: link lost") from err
            except ModbusException as err:
                link.fail(client, str(err))
                raise HardwareOperationError(f"{where}: {err}") from err
            except (OSError, serial.SerialException) as err:
                link.fail(client, f"link lost: {err}")
                raise HardwareOperationError(f"{where}: link lost: {err}") from err
            if response.isError():
                # The module answered, so the link is fine: no backoff, just refuse.
                link.succeeded()
                raise HardwareOperationError(f"{where}: module refused: {response}")
            link.succeeded()
            return response


# -- shared modules: gates on the same url use one connection ------------------------

_registry_lock = threading.Lock()
_links: dict[str, _Link] = {}


def module_for(url: str, unit: int, timeout: float = 0.5) -> ModbusIoModule:
    """The I/O module for ``unit`` on ``url``, sharing one connection per url (a TCP
    gateway or an RS-485 bus carries several units). Raises ValueError for a bad url."""
    with _registry_lock:
        link = _links.get(url)
        if link is None or link.closed:
            link = _links[url] = _Link(url, timeout)
        return ModbusIoModule(url, unit, timeout, _link=link)


def _forget(link: _Link) -> None:
    with _registry_lock:
        if _links.get(link.url) is link:
            del _links[link.url]


def close_all() -> None:
    """Close every shared connection (shutdown, tests)."""
    with _registry_lock:
        links = list(_links.values())
        _links.clear()
    for link in links:
        link.close()


__all__ = ["ModbusIoModule", "module_for", "close_all", "make_client", "HardwareError"]
