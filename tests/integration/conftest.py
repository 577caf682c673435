"""Fixtures for tests against real peers: pty card readers and pymodbus servers.

Reusable by any integration test (no import needed, pytest injects them):

- ``wait_until(cond, timeout=5.0, what="...")``: poll ``cond()`` every 10 ms until truthy;
  returns its value, or fails the test naming ``what``. Use instead of sleeps.
- ``pty_reader(protocol="em4100", reader_id="test-reader")``: a started
  ``SerialCardReader`` on a ``PtyReaderSim``; returns ``ReaderPair(sim, reader, reads)``
  where ``reads`` is a ``queue.Queue[CardRead]``. ``pair.sim.present("0A00C0FFEE")``;
  ``pair.next_read()`` waits for the next CardRead. Everything is stopped afterwards.
- ``turnstile_sim``: a started ``TurnstileSim`` (pymodbus TCP server on a free loopback
  port, unit 1) with turnstiles on coil/input 0-3 (pass after 0.2 s, always). Use
  ``.url``, ``.coil(a)``, ``.coil_history(a)``, ``.set_input(a, v)``, ``.input(a)``.
- ``make_turnstile_sim(**kwargs)``: the same with your own TurnstileSim arguments and
  ``turnstiles=[(coil, input), ...]``; stopped afterwards.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from hardware.base import CardRead
from hardware.serial_reader import SerialCardReader
from hardware.sim_reader import PtyReaderSim

T = TypeVar("T")


def _wait_until(cond: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    return _wait_until


@dataclass
class ReaderPair:
    sim: PtyReaderSim
    reader: SerialCardReader
    reads: queue.Queue[CardRead]

    def next_read(self, timeout: float = 5.0) -> CardRead:
        try:
            return self.reads.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no card read within {timeout} s; reader health {self.reader.health()}")


@pytest.fixture
def pty_reader() -> Iterator[Callable[..., ReaderPair]]:
    made: list[ReaderPair] = []

    def make(protocol: str = "em4100", reader_id: str = "test-reader") -> ReaderPair:
        sim = PtyReaderSim(protocol)
        reader = SerialCardReader(reader_id, protocol, sim.port)
        reads: queue.Queue[CardRead] = queue.Queue()
        pair = ReaderPair(sim, reader, reads)
        made.append(pair)
        reader.start(reads.put)
        _wait_until(lambda: reader.health()["online"], what=f"reader on {sim.port} online")
        return pair

    try:
        yield make
    finally:
        for pair in made:
            pair.reader.stop()
            pair.sim.close()


@pytest.fixture
def make_turnstile_sim() -> Iterator[Callable[..., Any]]:
    from hardware.sim_turnstile import TurnstileSim  # imports pymodbus: only when used

    made: list[TurnstileSim] = []

    def make(turnstiles: list[tuple[int, int]] | None = None, **kwargs: Any) -> TurnstileSim:
        sim = TurnstileSim(**kwargs)
        made.append(sim)
        for coil, inp in turnstiles or []:
            sim.add_turnstile(coil, inp)
        sim.start()
        return sim

    try:
        yield make
    finally:
        for sim in made:
            sim.stop()


@pytest.fixture
def turnstile_sim(make_turnstile_sim: Callable[..., Any]) -> Any:
    return make_turnstile_sim(turnstiles=[(i, i) for i in range(4)], pass_delay_s=0.2)
