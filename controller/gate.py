"""One gate: card reads in, decisions out, the turnstile driven, everything journalled.

The decision path runs in the reader's thread and touches only memory (the snapshot and
the presence view) and the local journal: it never waits on the database (design.md).
The turnstile cycle is the gate's ``TurnstileWorker`` (``controller.cycle``), which has a
thread of its own.

Escort pairing (R10): a visitor whose only missing fact is the escort waits, with the
reader showing amber, for ``escort_window_s``. An employee's card presented while visitors
wait confirms them all (each is decided with that escort) and does not open for the
employee; presented with nobody waiting, it is the employee's own entry and makes them the
escort present for visitors who present within the window.
Exit gates release for every card, always (R16: exit is never blocked by software).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from controller import metrics
from controller.cycle import Release, TurnstileWorker
from controller.events import GateEvents, utcnow
from controller.site import SiteContext
from controller.turnstile import TState
from hardware.base import CardRead, CardReader, IoModule
from zones.config import GateSection
from zones.facts import Decision, EntryRequest, PersonFacts, Zone
from zones.messages import reason
from zones.rules import decide


@dataclass(slots=True)
class _Waiting:
    read: CardRead
    person: PersonFacts
    deadline: float


class GateController:
    """Decides the cards read at one gate; its worker drives the turnstile."""

    def __init__(self, section: GateSection, zone: Zone, site: SiteContext, reader: CardReader, io: IoModule):
        self.zone, self.site = zone, site
        self.gate_id, self.direction = section.id, section.direction
        self.reader = reader
        self.events = GateEvents(site.journal, site.controller_id, section.id, zone.id, section.direction)
        self._lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._escorts_seen: list[tuple[PersonFacts, float]] = []
        self._last_read: tuple[str, float] = ("", 0.0)  # card, monotonic time
        self.counters = {
            "decisions": 0,
            "granted": 0,
            "denied": 0,
            "passed": 0,
            "not_passed": 0,
            "stale_reads": 0,
            "repeat_reads": 0,
        }
        self.worker = TurnstileWorker(
            section.turnstile,
            io,
            reader,
            self.events,
            site.presence,
            lambda: site.emergency_active,
            self.counters,
            self._expire_waiting,
        )

    # -- life cycle ------------------------------------------------------------------
    def start(self) -> None:
        self.worker.start()
        self.reader.start(self.on_card)

    def stop(self) -> None:
        self.worker.stop()
        self.reader.stop()

    def set_emergency(self, active: bool) -> None:
        """R16 from the alarm input or the web's command; carried out by the worker."""
        self.worker.set_emergency(active)

    # -- the decision path (reader thread) -------------------------------------------------
    def on_card(self, read: CardRead) -> None:
        age = time.monotonic() - read.read_at
        if age > self.site.stale_read_s:
            # libosdp #133 and slow links: a read this old may not be the person at the gate.
            self.counters["stale_reads"] += 1
            self.events.record("read", card=read.card, detail={"ignored": "stale", "age_s": round(age, 3)})
            return
        if self._is_repeat(read):
            return
        person = self.site.snapshot.by_card.get(read.card)
        if self.direction == "out":
            self._exit(read, person)
            return
        if person is not None and person.kind == "employee":
            # An employee's card confirms the visitors waiting here, if any (R10); otherwise
            # it is their own entry, and they count as the escort present for the window.
            if not self._pair_waiting(person):
                self._act(read, person, None, self._decide(read, person, None))
            return
        escort = self._recent_escort()
        decision = self._decide(read, person, escort)
        if decision.needs_escort and person is not None:
            with self._lock:
                self._waiting.append(_Waiting(read, person, time.monotonic() + self.site.policy.escort_window_s))
            self.events.record(
                "read",
                card=read.card,
                person_id=person.person_id,
                detail={"waiting": "escort", "window_s": self.site.policy.escort_window_s},
            )
            self.reader.feedback("waiting")
            return
        self._act(read, person, escort, decision)

    def _is_repeat(self, read: CardRead) -> bool:
        """RDM6300-type readers resend the frame every ~100 ms while a card is held: one
        presentation must be one decision, or a held card would release the turnstile
        again and again. Repeats of the last card within ``repeat_read_s`` of its previous
        read are counted, not decided (the window slides while the card stays held)."""
        card, last = self._last_read
        self._last_read = (read.card, read.read_at)
        if card == read.card and read.read_at - last < self.site.repeat_read_s:
            self.counters["repeat_reads"] += 1
            return True
        return False

    def _decide(self, read: CardRead, person: PersonFacts | None, escort: PersonFacts | None) -> Decision:
        presence = self.site.presence
        inside = (
            person is not None
            and (where := presence.where(person.person_id)) is not None
            and where.zone == self.zone.id
        )
        request = EntryRequest(
            card=read.card,
            person=person,
            now=utcnow(),
            escort=escort,
            escort_charge=presence.charge(escort.person_id) if escort is not None else 0,
            occupancy=presence.occupancy(self.zone.id),
            inside=inside,
            emergency=self.site.emergency_active,
        )
        decision = decide(request, self.zone, self.site.policy)
        if decision.allowed and self.worker.machine.state is TState.FAULTED:
            decision = replace(decision, allowed=False, reasons=(reason("gate-fault"),))
        return decision

    def _pair_waiting(self, escort: PersonFacts) -> bool:
        """Pair ``escort`` with every visitor waiting at this gate; remember the escort for
        visitors who present within the window. Returns whether anyone was waiting."""
        now = time.monotonic()
        window = self.site.policy.escort_window_s
        with self._lock:
            self._escorts_seen = [(p, t) for p, t in self._escorts_seen if now - t <= window] + [(escort, now)]
            waiting, self._waiting = [w for w in self._waiting if w.deadline >= now], []
        for w in waiting:
            fresh = self.site.snapshot.by_card.get(w.read.card, w.person)
            self._act(w.read, fresh, escort, self._decide(w.read, fresh, escort))
        return bool(waiting)

    def _recent_escort(self) -> PersonFacts | None:
        now = time.monotonic()
        with self._lock:
            recent = [p for p, t in self._escorts_seen if now - t <= self.site.policy.escort_window_s]
        return recent[-1] if recent else None

    def _act(self, read: CardRead, person: PersonFacts | None, escort: PersonFacts | None, decision: Decision) -> None:
        """Journal the decision (durably), then release or refuse."""
        escort_id = escort.person_id if escort is not None else None
        entry = self.events.record(
            "decision",
            card=read.card,
            person_id=person.person_id if person else None,
            escort_id=escort_id,
            allowed=decision.allowed,
            reasons=[
                {"rule": r.rule, "code": r.code, "message": r.message, "params": dict(r.params)}
                for r in decision.reasons
            ],
            detail={
                "read_age_ms": round((time.monotonic() - read.read_at) * 1000, 2),
                "person_kind": person.kind if person else None,
            },
        )
        self.counters["decisions"] += 1
        metrics.decided(self.gate_id, decision.allowed, decision.reasons)
        if decision.allowed:
            self.counters["granted"] += 1
            if person is not None and person.kind == "visitor":
                self.site.presence.in_flight(escort_id, +1)
            self.worker.release(
                Release(
                    person,
                    escort_id if person and person.kind == "visitor" else None,
                    entry.key,
                    read.card,
                    read.read_at,
                )
            )
        else:
            self.counters["denied"] += 1
            self.reader.feedback("denied")

    def _exit(self, read: CardRead, person: PersonFacts | None) -> None:
        """Exit gates release for anyone (R16): the decision is recorded, never refused."""
        where = self.site.presence.where(person.person_id) if person else None
        entry = self.events.record(
            "decision",
            card=read.card,
            person_id=person.person_id if person else None,
            allowed=True,
            reasons=[],
            detail={"exit": True, "was_inside": where.zone if where else None},
        )
        self.counters["decisions"] += 1
        self.counters["granted"] += 1
        metrics.decided(self.gate_id, True, ())
        self.worker.release(Release(person, where.escort_id if where else None, entry.key, read.card, read.read_at))

    def _expire_waiting(self) -> None:
        """Run by the worker thread between its jobs."""
        now = time.monotonic()
        with self._lock:
            if not self._waiting or all(w.deadline >= now for w in self._waiting):
                return
            expired = [w for w in self._waiting if w.deadline < now]
            self._waiting = [w for w in self._waiting if w.deadline >= now]
        for w in expired:  # the window closed without an escort: deny with every reason (R10)
            self._act(w.read, w.person, None, self._decide(w.read, w.person, None))

    # -- health ------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        with self._lock:
            waiting = len(self._waiting)
        return {
            "gate": self.gate_id,
            "zone": self.zone.id,
            "direction": self.direction,
            "state": self.worker.machine.state.value,
            "io_connected": self.worker.io.connected,
            "last_fault": self.worker.last_fault,
            "waiting_for_escort": waiting,
            "reader": self.reader.health(),
            "counters": dict(self.counters),
        }
