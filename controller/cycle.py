"""The turnstile cycle of a gate, run in the gate's own worker thread: pulse the release
coil, wait for the passage, record it; hold exits open and entries locked in an emergency
(R16); fault the gate when its I/O module is unreachable and recover by itself.

``TurnstileCycle`` is a mixin of ``controller.gate.GateController``, split out so the
decision path (reader thread) and the turnstile cycle (worker thread) each read on their
own. It uses the gate's ``section``, ``zone``, ``site``, ``reader``, ``io``, ``machine``,
``_jobs``, ``_stop``, ``counters``, ``last_fault``, ``_journal`` and ``_expire_waiting``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from controller.presence import Inside
from controller.turnstile import TState, TurnstileMachine
from hardware.base import CardReader, HardwareError, IoModule
from zones.config import GateSection
from zones.facts import PersonFacts, Zone

if TYPE_CHECKING:
    from controller.runtime import SiteContext

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Release:
    """One passage granted: who, with which escort, for which journalled decision."""

    person: PersonFacts | None
    escort_id: int | None
    decision_key: str
    card: str


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TurnstileCycle:
    PROBE_INTERVAL_S = 0.5   # how often a faulted gate tries its I/O module again
    POLL_S = 0.01            # passage input polling while released

    section: GateSection
    zone: Zone
    site: SiteContext
    reader: CardReader
    io: IoModule
    machine: TurnstileMachine
    gate_id: str
    direction: str
    last_fault: str | None
    counters: dict[str, int]
    _jobs: queue.Queue[tuple[str, Any]]
    _stop: threading.Event

    def _journal(self, kind: str, **fields: Any) -> str:
        raise NotImplementedError

    def _expire_waiting(self) -> None:
        raise NotImplementedError

    def _work(self) -> None:
        next_probe = 0.0
        while not self._stop.is_set():
            try:
                job, arg = self._jobs.get(timeout=0.05)
            except queue.Empty:
                job, arg = "", None
            try:
                if job == "release":
                    self._release(arg)
                elif job in ("emergency", "clear"):
                    self._emergency(job)
                self._expire_waiting()
                if self.machine.state in (TState.FAULTED, TState.EMERGENCY) and time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + self.PROBE_INTERVAL_S
                    self._probe()
            except Exception:   # a bug here must not kill the gate; it is logged and journalled
                log.exception("gate %s: worker error", self.gate_id)
                self._journal("fault", detail={"error": "worker exception; see the controller log"})

    def _release(self, rel: Release) -> None:
        if self.machine.state is TState.EMERGENCY:
            # Exit gates are held open anyway; entries stay locked (R16).
            self._record_passage(rel, passed=self.direction == "out", note="emergency")
            return
        if not self.machine.can("release"):
            self._record_passage(rel, passed=False, note=f"turnstile {self.machine.state.value}")
            return
        self.machine.fire("release")
        t = self.section.turnstile
        try:
            self.io.write_coil(t.release_coil, True)
        except HardwareError as err:
            self._fault(err)
            self._record_passage(rel, passed=False, note="release failed: I/O module unreachable")
            return
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
                if now >= deadline or self.site.emergency_active:
                    break
                time.sleep(self.POLL_S)
            if coil_on:
                self.io.write_coil(t.release_coil, False)
        except HardwareError as err:
            self._fault(err)
            self._record_passage(rel, passed=False, note="I/O module lost during passage")
            return
        self.machine.fire("passed" if passed else "timeout")
        self._record_passage(rel, passed=passed)

    def _record_passage(self, rel: Release, passed: bool, note: str | None = None) -> None:
        person = rel.person
        at = utcnow()
        entry = self.site.journal.append({
            "at": at, "gate": self.gate_id, "zone": self.zone.id, "kind": "passage",
            "direction": self.direction, "controller": self.site.controller_id, "card": rel.card,
            "person_id": person.person_id if person else None, "escort_id": rel.escort_id,
            "passed": passed, "detail": {"decision": rel.decision_key, "note": note},
        })
        self.counters["passed" if passed else "not_passed"] += 1
        if person is not None and person.kind == "visitor" and self.direction == "in":
            self.site.presence.in_flight(rel.escort_id, -1)
        if passed and person is not None:
            if self.direction == "in":
                self.site.presence.entered(person.person_id, Inside(self.zone.id, at, rel.escort_id, person.kind),
                                           entry.seq)
            else:
                self.site.presence.left(person.person_id, entry.seq)

    def _emergency(self, job: str) -> None:
        if job == "clear" and self.machine.state is not TState.EMERGENCY:
            return
        actions = self.machine.fire(job)
        self._journal("emergency", detail={"active": job == "emergency"})
        self._do_hold(actions)

    def _do_hold(self, actions: tuple[str, ...]) -> None:
        coil = self.section.turnstile.release_coil
        try:
            if "hold" in actions:
                # Free egress: exit turnstiles held open; entries held locked.
                self.io.write_coil(coil, self.direction == "out")
            if "release_hold" in actions:
                self.io.write_coil(coil, False)
        except HardwareError as err:
            self.last_fault = str(err)
            log.warning("gate %s: emergency coil write failed: %s", self.gate_id, err)

    def _fault(self, err: HardwareError) -> None:
        self.last_fault = str(err)
        log.warning("gate %s: I/O fault: %s", self.gate_id, err)
        self.machine.fire("fault")
        self._journal("fault", detail={"error": str(err)})

    def _probe(self) -> None:
        try:
            self.io.read_inputs(self.section.turnstile.passage_input, 1)
        except HardwareError:
            return
        if self.machine.state is TState.FAULTED:
            self.machine.fire("recovered")
            self.last_fault = None
            self._journal("fault", detail={"recovered": True})
        elif self.machine.state is TState.EMERGENCY:
            self._do_hold(self.machine.fire("recovered"))   # re-assert the hold after a reconnect
