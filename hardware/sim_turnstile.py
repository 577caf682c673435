"""A simulated turnstile I/O module: a real pymodbus 3.16.1 server that behaves like
turnstiles wired to a Modbus I/O module (contract.md "Turnstile I/O").

Usage::

    sim = TurnstileSim(pass_delay_s=0.8, pass_probability=0.9, seed=1)  # TCP, unit 1
    sim.add_turnstile(release_coil=2, passage_input=2)
    port = sim.start()                 # sim.url == f"tcp://127.0.0.1:{port}"
    sim.coil(2)                        # -> False
    sim.set_input(10, True)            # e.g. the fire-alarm contact
    sim.coil_history(2)                # [(time.monotonic() of the write, value), ...]
    sim.stop(); sim.start()            # restart on the same port (a module reboot)

    TurnstileSim(serial_port="/dev/pts/7", baud=9600)   # RTU on a serial port instead;
                                                        # sim.url == "rtu:///dev/pts/7?baud=9600"

What it models: one Modbus device (``unit``) with 64 coils and 64 discrete inputs. When a
client writes a turnstile's release coil from 0 to 1, one person is let through: after
``pass_delay_s`` (if a random draw < ``pass_probability``, else nobody comes) the passage
input reads 1 for ``input_hold_s`` then 0 again; a second person released meanwhile waits
until the first is through (each passage is its own pulse, at least 50 ms apart). The turnstile latches the release, so the
person may pass after the coil is back at 0. Every coil write is timestamped in the
server's request path (the datastore's action hook) before the reply is sent. It does not
model wire timing beyond what the real TCP / RTU transport does. A fresh start begins with
every coil and input at 0, as a rebooted module does.

The server runs in its own thread with its own event loop, because pymodbus servers must
be constructed inside a running loop (hardware-notes).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import defaultdict
from typing import Any

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

log = logging.getLogger(__name__)

POINTS = 64  # coils and discrete inputs 0..63
FC_READ_COILS, FC_READ_INPUTS, FC_WRITE_COIL, FC_WRITE_COILS = 1, 2, 5, 15
ARM_RESET_S = 0.05  # input low between two passages of one turnstile


class TurnstileSim:
    """Turnstiles on a simulated Modbus I/O module. Methods are thread-safe."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        unit: int = 1,
        pass_delay_s: float = 0.8,
        pass_probability: float = 1.0,
        seed: int | None = None,
        *,
        serial_port: str | None = None,
        baud: int = 9600,
        input_hold_s: float = 0.3,
    ) -> None:
        self.host = host
        self.port = port
        self.unit = unit
        self.pass_delay_s = pass_delay_s
        self.pass_probability = pass_probability
        self.input_hold_s = input_hold_s
        self.serial_port = serial_port
        self.baud = baud
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._turnstiles: dict[int, int] = {}  # release coil -> passage input
        self._history: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        self._coils: dict[int, bool] = {}  # last written value per coil
        self._passes: list[tuple[float, int]] = []  # (time, passage input)
        self._releases: dict[int, int] = defaultdict(int)  # coil -> 0->1 transitions
        self._skip: set[int] = set()  # coils whose next release nobody uses
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._arms: dict[int, asyncio.Lock] = {}  # passage input -> its turnstile arm

    @property
    def url(self) -> str:
        """The ModbusIoModule url for this sim (tcp://... or rtu://...)."""
        if self.serial_port is not None:
            return f"rtu://{self.serial_port}?baud={self.baud}"
        return f"tcp://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def add_turnstile(self, release_coil: int, passage_input: int) -> None:
        """Wire a turnstile: coil ``release_coil`` releases it, input ``passage_input``
        reports the passage. Allowed before or after start()."""
        for point in (release_coil, passage_input):
            if not 0 <= point < POINTS:
                raise ValueError(f"point {point} outside 0..{POINTS - 1}")
        with self._lock:
            self._turnstiles[release_coil] = passage_input

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> int:
        """Start serving; returns the bound TCP port (0 for RTU). Raises RuntimeError when
        the server cannot start (port in use, serial port missing)."""
        if self.running:
            return self.port
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(ready, failure)),
            name="turnstile-sim",
            daemon=True,
        )
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError("turnstile simulator did not start within 10 s")
        if failure:
            self._thread.join(timeout=5)
            self._thread = None
            raise RuntimeError(f"turnstile simulator cannot start: {failure[0]}") from failure[0]
        log.info("turnstile sim serving %s (unit %d)", self.url, self.unit)
        return self.port

    def stop(self) -> None:
        """Stop serving and drop every connection; pending passages are cancelled. Idempotent."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        try:
            loop.call_soon_threadsafe(stopping.set)
        except RuntimeError:
            pass  # the loop already ended
        thread.join(timeout=10)
        self._thread = None
        log.info("turnstile sim %s stopped", self.url)

    async def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        with self._lock:
            self._coils.clear()
        self._arms = {}  # asyncio locks belong to this loop
        device = SimDevice(
            id=self.unit,
            simdata=(
                [SimData(0, count=POINTS, values=False, datatype=DataType.BITS)],
                [SimData(0, count=POINTS, values=False, datatype=DataType.BITS)],
                [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)],
                [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self._on_access,
        )
        try:
            if self.serial_port is not None:
                server: ModbusTcpServer | ModbusSerialServer = ModbusSerialServer(
                    device, port=self.serial_port, baudrate=self.baud
                )
            else:
                server = ModbusTcpServer(device, address=(self.host, self.port))
            await server.serve_forever(background=True)
        except Exception as err:  # reported to start()'s caller
            failure.append(err)
            ready.set()
            return
        if self.serial_port is None:
            self.port = server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._server = server
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.shutdown()
            self._server = None

    # -- the server's request path ----------------------------------------------------

    async def _on_access(
        self,
        func_code: int,
        _start: int,
        address: int,
        _count: int,
        _registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> None:
        """pymodbus SimDevice action: runs for every request before the reply is built."""
        if values is None or func_code not in (FC_WRITE_COIL, FC_WRITE_COILS):
            return None
        now = time.monotonic()
        for offset, raw in enumerate(values):
            self._coil_written(address + offset, bool(raw), now)
        return None

    def _coil_written(self, coil: int, value: bool, now: float) -> None:
        with self._lock:
            self._history[coil].append((now, value))
            before = self._coils.get(coil, False)
            self._coils[coil] = value
            passage_input = self._turnstiles.get(coil)
            if value and not before:
                self._releases[coil] += 1
            skip = value and not before and passage_input is not None and coil in self._skip
            if skip:
                self._skip.discard(coil)
        if value == before:
            return
        log.info("gate coil %d -> %d", coil, int(value))
        if value and passage_input is not None:
            task = asyncio.get_running_loop().create_task(self._passage(coil, passage_input, skip))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _passage(self, coil: int, passage_input: int, skip: bool) -> None:
        await asyncio.sleep(self.pass_delay_s)
        if skip or self._rng.random() >= self.pass_probability:
            log.info("nobody passed, input %d stays 0 (turnstile of coil %d)", passage_input, coil)
            return
        # One person at a time through one turnstile: a passage that comes while the
        # previous one still holds the input waits for it, so every passage is its own
        # 0 -> 1 -> 0 pulse on the input (never two merged into one).
        async with self._arm(passage_input):
            await self._set_bits(FC_READ_INPUTS, passage_input, True)
            with self._lock:
                self._passes.append((time.monotonic(), passage_input))
            log.info("person passed, input %d = 1", passage_input)
            await asyncio.sleep(self.input_hold_s)
            await self._set_bits(FC_READ_INPUTS, passage_input, False)
            await asyncio.sleep(ARM_RESET_S)

    def _arm(self, passage_input: int) -> asyncio.Lock:
        lock = self._arms.get(passage_input)
        if lock is None:
            lock = self._arms[passage_input] = asyncio.Lock()
        return lock

    async def _set_bits(self, func_code: int, address: int, value: bool) -> None:
        assert self._server is not None
        await self._server.async_setValues(self.unit, func_code, address, [value])

    async def _get_bit(self, func_code: int, address: int) -> bool:
        assert self._server is not None
        return bool((await self._server.async_getValues(self.unit, func_code, address, 1))[0])

    # -- test / control helpers (any thread) ------------------------------------------

    def _run(self, coro: Any) -> Any:
        if not self.running or self._loop is None or self._server is None:
            coro.close()
            raise RuntimeError("turnstile simulator is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=5)

    def coil(self, address: int) -> bool:
        """The coil's current value in the module. Raises RuntimeError when stopped."""
        return bool(self._run(self._get_bit(FC_READ_COILS, address)))

    def input(self, address: int) -> bool:
        """The discrete input's current value. Raises RuntimeError when stopped."""
        return bool(self._run(self._get_bit(FC_READ_INPUTS, address)))

    def set_input(self, address: int, value: bool) -> None:
        """Set a discrete input (an alarm contact, a stuck sensor)."""
        self._run(self._set_bits(FC_READ_INPUTS, address, value))
        log.info("input %d = %d", address, int(value))

    def coil_history(self, address: int) -> list[tuple[float, bool]]:
        """(time.monotonic(), value) of every client write to the coil, oldest first."""
        with self._lock:
            return list(self._history.get(address, []))

    def skip_next(self, release_coil: int) -> None:
        """Nobody walks through on the next release of this turnstile (whatever the draw)."""
        with self._lock:
            self._skip.add(release_coil)

    def releases(self, release_coil: int) -> int:
        """How many times the coil went from 0 to 1 since the simulator was created."""
        with self._lock:
            return self._releases.get(release_coil, 0)

    def passes(self) -> list[tuple[float, int]]:
        """(time.monotonic(), passage input) of every simulated passage, oldest first."""
        with self._lock:
            return list(self._passes)

    def turnstiles(self) -> dict[int, int]:
        """release coil -> passage input of every registered turnstile."""
        with self._lock:
            return dict(self._turnstiles)
