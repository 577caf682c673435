"""The turnstile cycle of one gate, run in a worker thread of its own so that a slow
passage never delays the next decision: pulse the release coil, wait for the passage,
record it; hold exits open and entries locked in an emergency (R16); fault the gate when
its I/O module is unreachable and recover by itself. Every step is an action of the
table in ``controller.turnstile``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from controller import metrics
from controller.events import GateEvents
from controller.journal import Entry
from controller.presence import PresenceView
from controller.turnstile import TState, TurnstileMachine
from hardware.base import CardReader, HardwareError, IoModule
from zones.config import TurnstileSection
from zones.facts import PersonFacts
from zones.snapshot import PresenceFact

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Release:
    """One passage granted: who, with which escort, for which journalled decision."""

    person: PersonFacts | None
    escort_id: int | None
    decision_key: str
    card: str
    read_at: float | None = None  # monotonic time of the card read (card-to-coil metric)


class TurnstileWorker:
    """Drives one turnstile from the jobs its gate queues (``release``, ``set_emergency``).

    ``tick`` is the gate's own periodic work (expiring escort waits), run in this thread
    after every job and at least every ``TICK_S``; ``after_passage`` is the gate's follow-up
    of each recorded passage through the turnstile (R10 custody at exits). Passages are counted in the gate's
    ``counters``."""

    TICK_S = 0.05
    PROBE_INTERVAL_S = 0.5  # how often a faulted gate tries its I/O module again
    POLL_S = 0.01  # passage input polling while released

    def __init__(
        self,
        turnstile: TurnstileSection,
        io: IoModule,
        reader: CardReader,
        events: GateEvents,
        presence: PresenceView,
        emergency_active: Callable[[], bool],
        counters: dict[str, int],
        tick: Callable[[], None],
        after_passage: Callable[[Release, Entry], None] | None = None,
    ):
        self.turnstile, self.io, self.reader, self.events = turnstile, io, reader, events
        self.presence, self._emergency_active, self.counters, self._tick = presence, emergency_active, counters, tick
        self._after_passage = after_passage
        self.gate_id, self.direction = events.gate_id, events.direction
        self.machine = TurnstileMachine()
        self.last_fault: str | None = None
        self._passage: Release | None = None  # from the release until its record
        self._jobs: queue.Queue[tuple[str, Release | None]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gate-{self.gate_id}", daemon=True)

    # -- the gate's side -------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def release(self, rel: Release) -> None:
        self._jobs.put(("release", rel))

    def set_emergency(self, active: bool) -> None:
        self._jobs.put(("emergency" if active else "clear", None))

    # -- the worker thread -----------------------------------------------------------
    def _run(self) -> None:
        next_probe = 0.0
        while not self._stop.is_set():
            try:
                job, rel = self._jobs.get(timeout=self.TICK_S)
            except queue.Empty:
                job, rel = "", None
            try:
                if rel is not None:
                    self._release(rel)
                elif job == "emergency" or (job == "clear" and self.machine.state is TState.EMERGENCY):
                    self._fire(job, note="emergency")
                self._tick()
                if self.machine.state in (TState.FAULTED, TState.EMERGENCY) and time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + self.PROBE_INTERVAL_S
                    self._probe()
            except Exception:  # a bug here must not kill the gate; it is logged and journalled
                log.exception("gate %s: worker error", self.gate_id)
                self.events.record("fault", detail={"error": "worker exception; see the controller log"})

    def _release(self, rel: Release) -> None:
        if self.machine.can("release"):
            self._passage = rel
            self._fire("release")
        elif self.machine.state is TState.EMERGENCY:
            # Exit gates are held open anyway; entries stay locked (R16).
            self._record(rel, passed=self.direction == "out", note="emergency")
        else:
            self._record(rel, passed=False, note=f"turnstile {self.machine.state.value}")

    def _fire(self, event: str, note: str | None = None) -> None:
        """Move the machine by ``event`` and carry out the actions of its table row, in
        order; ``note`` goes into a passage record."""
        for action in self.machine.fire(event):
            match action:
                case "pulse":
                    self._pulse()
                case "record_passed" | "record_not_passed":
                    rel, self._passage = self._passage, None
                    assert rel is not None, "a passage is recorded only after its release"
                    self._record(rel, passed=action == "record_passed", note=note)
                case "record_fault":
                    self.events.record("fault", detail={"error": self.last_fault})
                case "record_recovered":
                    self.events.record("fault", detail={"recovered": True})
                case "record_emergency" | "record_clear":
                    self.events.record("emergency", detail={"active": action == "record_emergency"})
                case "hold":
                    self._write_hold(self.direction == "out")
                case "release_hold":
                    self._write_hold(False)
                case _:
                    raise ValueError(f"turnstile action {action!r} has no meaning here")

    def _pulse(self) -> None:
        t = self.turnstile
        try:
            self.io.write_coil(t.release_coil, True)
        except HardwareError as err:
            self._fault(err, "release failed: I/O module unreachable")
            return
        metrics.coil_set(self.gate_id, self._passage.read_at if self._passage else None)
        # Green LED and beep once the coil is set: an OSDP command may wait on libosdp's
        # own refresh cycle, and it must not stand between the decision and the coil.
        self.reader.feedback("granted")
        started = time.monotonic()
        coil_off_at, deadline = started + t.pulse_ms / 1000, started + t.pass_timeout_s
        coil_on, passed, armed = True, False, False
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if coil_on and now >= coil_off_at:
                    self.io.write_coil(t.release_coil, False)
                    coil_on = False
                # A passage is the input rising after the release: an input still high from
                # the previous person must fall first, or one walk would count twice.
                if self.io.read_inputs(t.passage_input, 1)[0]:
                    if armed:
                        passed = True
                        break
                else:
                    armed = True
                if now >= deadline or self._emergency_active():
                    break
                time.sleep(self.POLL_S)
            if coil_on:
                self.io.write_coil(t.release_coil, False)
        except HardwareError as err:
            self._fault(err, "I/O module lost during passage")
            return
        self._fire("passed" if passed else "timeout")

    def _record(self, rel: Release, passed: bool, note: str | None) -> None:
        person = rel.person
        entry = self.events.record(
            "passage",
            card=rel.card,
            person_id=person.person_id if person else None,
            escort_id=rel.escort_id,
            passed=passed,
            detail={"decision": rel.decision_key, "note": note},
        )
        self.counters["passed" if passed else "not_passed"] += 1
        if person is not None and person.kind == "visitor" and self.direction == "in":
            self.presence.in_flight(rel.escort_id, -1)
        if passed and person is not None:
            if self.direction == "in":
                self.presence.entered(
                    PresenceFact(person.person_id, self.events.zone_id, entry.event["at"], rel.escort_id, person.kind),
                    entry.seq,
                )
            else:
                self.presence.left(person.person_id, entry.seq)
        if passed and self._after_passage is not None:
            self._after_passage(rel, entry)

    def _write_hold(self, coil_on: bool) -> None:
        try:
            self.io.write_coil(self.turnstile.release_coil, coil_on)
        except HardwareError as err:  # the probe writes the hold again once the module answers
            self.last_fault = str(err)
            log.warning("gate %s: emergency coil write failed: %s", self.gate_id, err)

    def _fault(self, err: HardwareError, note: str) -> None:
        self.last_fault = str(err)
        log.warning("gate %s: I/O fault: %s", self.gate_id, err)
        self._fire("fault", note)

    def _probe(self) -> None:
        try:
            self.io.read_inputs(self.turnstile.passage_input, 1)
        except HardwareError:
            return
        if self.machine.state is TState.FAULTED:
            self.last_fault = None
        self._fire("recovered")
