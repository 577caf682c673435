"""The turnstile worker carries out what the table says: passages recorded with presence
and counters, I/O faults journalled and recovered by the probe, the R16 hold."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.cycle import Release, TurnstileWorker
from controller.events import GateEvents
from controller.journal import Journal
from controller.presence import PresenceView
from controller.turnstile import TState
from hardware.base import CardRead, CardReader, Feedback, HardwareError, IoModule
from zones.config import TurnstileSection
from zones.facts import PersonFacts


class FakeIo(IoModule):
    """One turnstile: the passage input rises a few polls after a release when someone walks."""

    def __init__(self) -> None:
        self.coils: list[bool] = []
        self.walks = True
        self.down = False
        self._polls = 0

    def write_coil(self, address: int, value: bool) -> None:
        if self.down:
            raise HardwareError("no answer")
        self.coils.append(value)
        if value:
            self._polls = 0

    def read_inputs(self, address: int, count: int = 1) -> list[bool]:
        if self.down:
            raise HardwareError("no answer")
        self._polls += 1
        return [self.walks and self._polls > 2]

    def close(self) -> None:
        pass

    @property
    def connected(self) -> bool:
        return not self.down


class FakeReader(CardReader):
    reader_id = "g1"

    def __init__(self) -> None:
        self.shown: list[Feedback] = []

    def start(self, on_card: Callable[[CardRead], None]) -> None:
        pass

    def stop(self) -> None:
        pass

    def health(self) -> dict[str, object]:
        return {}

    def feedback(self, what: Feedback) -> None:
        self.shown.append(what)


class Rig:
    def __init__(self, tmp_path: Path, direction: str) -> None:
        self.io, self.reader, self.presence = FakeIo(), FakeReader(), PresenceView()
        self.journal = Journal(tmp_path / "journal.db")
        self.emergency = False
        self.counters = {"passed": 0, "not_passed": 0}
        self.ticks = 0
        events = GateEvents(self.journal, "test", "g1", "smelting", direction)
        section = TurnstileSection(modbus="sim", pulse_ms=50, pass_timeout_s=0.3)
        self.worker = TurnstileWorker(
            section, self.io, self.reader, events, self.presence, lambda: self.emergency, self.counters, self._tick
        )
        self.worker.PROBE_INTERVAL_S = 0.05

    def _tick(self) -> None:
        self.ticks += 1

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e.event for e in self.journal.unshipped(1000) if e.event["kind"] == kind]

    def until(self, cond: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + 5
        while not cond():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.01)


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Rig]:
    r = Rig(tmp_path, getattr(request, "param", "in"))
    r.worker.start()
    yield r
    r.worker.stop()
    r.journal.close()


VISITOR = PersonFacts(person_id=7, kind="visitor", name="V", card="C7")


def _release(person: PersonFacts | None = VISITOR) -> Release:
    return Release(person, 3 if person is not None else None, "decision-key", "C7")


def test_a_passage_is_recorded_and_the_person_is_inside(rig: Rig) -> None:
    rig.presence.in_flight(3, +1)  # the gate counts the released visitor in the charge
    rig.worker.release(_release())
    rig.until(lambda: rig.counters["passed"] == 1, "passage")
    (passage,) = rig.events("passage")
    assert passage["passed"] is True and passage["person_id"] == 7 and passage["escort_id"] == 3
    assert passage["detail"] == {"decision": "decision-key", "note": None}
    assert rig.io.coils == [True, False] and rig.reader.shown == ["granted"]
    where = rig.presence.where(7)
    assert where is not None and (where.zone, where.escort_id, where.kind) == ("smelting", 3, "visitor")
    assert rig.presence.charge(3) == 1  # inside now, no longer in flight
    assert rig.worker.machine.state is TState.READY and rig.ticks > 0


def test_nobody_walks_through(rig: Rig) -> None:
    rig.io.walks = False
    rig.worker.release(_release())
    rig.until(lambda: rig.counters["not_passed"] == 1, "timeout")
    assert rig.events("passage")[0]["passed"] is False and rig.presence.where(7) is None
    assert rig.io.coils == [True, False]


def test_io_fault_is_journalled_the_passage_not_made_and_the_probe_recovers(rig: Rig) -> None:
    rig.io.down = True
    rig.worker.release(_release())
    rig.until(lambda: rig.counters["not_passed"] == 1, "refused passage")
    assert rig.worker.machine.state is TState.FAULTED and rig.worker.last_fault == "no answer"
    assert [e.event["kind"] for e in rig.journal.unshipped()] == ["fault", "passage"]
    assert rig.events("fault")[0]["detail"] == {"error": "no answer"}
    assert rig.events("passage")[0]["detail"]["note"] == "release failed: I/O module unreachable"
    rig.worker.release(_release())  # exit gates release for anyone, faulted or not
    rig.until(lambda: rig.counters["not_passed"] == 2, "second refusal")
    assert rig.events("passage")[1]["detail"]["note"] == "turnstile faulted"
    rig.io.down = False
    rig.until(lambda: rig.worker.machine.state is TState.READY, "recovery")
    assert rig.events("fault")[-1]["detail"] == {"recovered": True} and rig.worker.last_fault is None


@pytest.mark.parametrize("rig", ["out", "in"], indirect=True)
def test_R16_emergency_holds_exits_open_and_entries_locked(rig: Rig) -> None:
    held = rig.worker.direction == "out"
    rig.worker.set_emergency(True)
    rig.until(lambda: rig.worker.machine.state is TState.EMERGENCY and rig.io.coils, "hold")
    assert rig.io.coils[0] is held
    assert [e["detail"] for e in rig.events("emergency")] == [{"active": True}]
    rig.worker.release(_release(None))
    rig.until(lambda: rig.counters["passed"] + rig.counters["not_passed"] == 1, "passage in the emergency")
    passage = rig.events("passage")[0]
    assert passage["passed"] is held and passage["detail"]["note"] == "emergency"
    rig.until(lambda: len(rig.io.coils) >= 2, "the probe writes the hold again")
    assert set(rig.io.coils) == {held}
    rig.worker.set_emergency(False)
    rig.until(lambda: rig.worker.machine.state is TState.READY, "clear")
    rig.until(lambda: rig.io.coils[-1] is False, "hold released")
    assert [e["detail"] for e in rig.events("emergency")] == [{"active": True}, {"active": False}]
