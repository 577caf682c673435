"""One gate: card reads in, decisions out, the turnstile driven, everything journalled.

The decision path runs in the reader's thread and touches only memory (the snapshot and
the presence view) and the local journal: it never waits on the database (design.md).
The turnstile cycle is the gate's ``TurnstileWorker`` (``controller.cycle``), which has a
thread of its own.

Escort pairing (R10): a visitor is paired only with one of their escorts of record
(``zones.rules.is_escort_of_record``). A visitor whose only missing fact is the escort
waits, with the reader showing amber, for ``escort_window_s``. An employee's card
presented while visitors of theirs wait confirms those visitors (the others keep waiting)
and the escort passes with them: the turnstile releases in turn for each visitor, then for
the escort. Presented with none of their visitors waiting, it is the employee's own entry,
and they count as the escort present for visitors of theirs who present within the window.
Exit gates release for every card, always (R16: exit is never blocked by software); an
escort's exit that leaves visitors of theirs inside raises an "unescorted" alert
(``controller.custody``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from controller import metrics
from controller.custody import raise_unescorted
from controller.cycle import Release, TurnstileWorker
from controller.events import GateEvents, utcnow
from controller.journal import Entry
from controller.site import SiteContext
from controller.turnstile import TState
from hardware.base import CardRead, CardReader, IoModule
from zones.config import GateSection
from zones.facts import Decision, EntryRequest, PersonFacts, Zone
from zones.messages import reason
from zones.rules import decide, is_escort_of_record


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
        # the latest escort confirmation here (R10), for the panel's gate card (health())
        self._confirmed: dict[str, Any] | None = None
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
            self._after_passage,
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
            # An employee's card confirms the visitors of theirs waiting here, if any, and
            # passes with them (R10); otherwise it is their own entry. Either way they
            # count as the escort present for the window.
            group = self._take_waiting_of(person)
            if group:
                self._escort_group(read, person, group)
            else:
                self._act(read, person, None, self._decide(read, person, None))
            return
        escort = self._recent_escort_for(person)
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

    def _decide(
        self, read: CardRead, person: PersonFacts | None, escort: PersonFacts | None, escort_waited: bool = False
    ) -> Decision:
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
            escort_waited=escort_waited,
        )
        decision = decide(request, self.zone, self.site.policy)
        if decision.allowed and self.worker.machine.state is TState.FAULTED:
            decision = replace(decision, allowed=False, reasons=(reason("gate-fault"),))
        return decision

    def _take_waiting_of(self, escort: PersonFacts) -> list[_Waiting]:
        """Remove and return the visitors waiting here whose escort of record ``escort`` is;
        remember ``escort`` as present for the window."""
        now, at = time.monotonic(), utcnow()
        window = self.site.policy.escort_window_s
        with self._lock:
            self._escorts_seen = [(p, t) for p, t in self._escorts_seen if now - t <= window] + [(escort, now)]
            live = [w for w in self._waiting if w.deadline >= now]
            mine = [w for w in live if is_escort_of_record(w.person, escort.person_id, self.zone, at)]
            self._waiting = [w for w in self._waiting if all(w is not m for m in mine)]
        return mine

    def _escort_group(self, read: CardRead, escort: PersonFacts, group: list[_Waiting]) -> None:
        """One escort presentation for the visitors of theirs waiting: each is decided with
        the escort and released in turn, then the escort passes with them (R10)."""
        escorted = []
        for w in group:
            fresh = self.site.snapshot.by_card.get(w.read.card, w.person)
            decision = self._decide(w.read, fresh, escort)
            self._act(w.read, fresh, escort, decision)
            if decision.allowed:
                escorted.append(fresh.person_id)
        own = self._decide(read, escort, None)
        if escorted:
            # Escort authority for the zone (its department or an explicit authorisation,
            # checked in the visitors' decisions) covers walking in with them (R10).
            kept = tuple(r for r in own.reasons if r.code != "employee-not-authorised")
            own = replace(own, allowed=not kept, reasons=kept)
        self._act(read, escort, None, own, escorting=escorted)
        if escorted:
            confirmed = {"at": utcnow().isoformat(), "escort_id": escort.person_id, "visitors": escorted}
            with self._lock:
                self._confirmed = confirmed

    def _recent_escort_for(self, person: PersonFacts | None) -> PersonFacts | None:
        """The latest escort presented within the window who may escort ``person`` (R10:
        one of their escorts of record); None when there is none."""
        now, at = time.monotonic(), utcnow()
        with self._lock:
            recent = [p for p, t in self._escorts_seen if now - t <= self.site.policy.escort_window_s]
        if person is None or person.kind != "visitor":
            return recent[-1] if recent else None
        return next(
            (p for p in reversed(recent) if is_escort_of_record(person, p.person_id, self.zone, at)),
            None,
        )

    def _act(
        self,
        read: CardRead,
        person: PersonFacts | None,
        escort: PersonFacts | None,
        decision: Decision,
        escorting: list[int] | None = None,
    ) -> None:
        """Journal the decision (durably), then release or refuse. ``escorting``: the
        visitors an escort's own entry goes in with (R10)."""
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
                **({"escorting": escorting} if escorting is not None else {}),
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

    def _after_passage(self, rel: Release, passage: Entry) -> None:
        """Run by the worker thread after each passage through the turnstile."""
        person = rel.person
        if self.direction == "out" and person is not None and person.kind == "employee":
            raise_unescorted(self.events, self.site.presence, person.person_id, self.zone.department, passage.key)

    def _expire_waiting(self) -> None:
        """Run by the worker thread between its jobs."""
        now = time.monotonic()
        with self._lock:
            if not self._waiting or all(w.deadline >= now for w in self._waiting):
                return
            expired = [w for w in self._waiting if w.deadline < now]
            self._waiting = [w for w in self._waiting if w.deadline >= now]
        for w in expired:  # the window closed without an escort: deny with every reason (R10)
            self._act(w.read, w.person, None, self._decide(w.read, w.person, None, escort_waited=True))

    # -- health ------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The gate's state for the panel (published by the runtime as its gate health):
        ``waiting`` lists the visitors waiting here for their escort with the end of their
        window, ``confirmed`` the latest escort confirmation (R10) with its visitors."""
        now, at = time.monotonic(), utcnow()
        with self._lock:
            waiting = [
                {"person_id": w.person.person_id, "until": (at + timedelta(seconds=w.deadline - now)).isoformat()}
                for w in self._waiting
                if w.deadline >= now
            ]
            confirmed = self._confirmed
        return {
            "gate": self.gate_id,
            "zone": self.zone.id,
            "direction": self.direction,
            "state": self.worker.machine.state.value,
            "io_connected": self.worker.io.connected,
            "last_fault": self.worker.last_fault,
            "waiting_for_escort": len(waiting),
            "waiting": waiting,
            "confirmed": confirmed,
            "reader": self.reader.health(),
            "counters": dict(self.counters),
        }

    def shown(self) -> tuple[Any, ...]:
        """What the panel shows of this gate that changes with its traffic and its state:
        the runtime publishes the gate's health as soon as this changes, not only at its
        next heartbeat (an emergency's end, a visitor waiting, an escort confirming)."""
        with self._lock:
            waiting = tuple(w.read.card for w in self._waiting)
            confirmed = self._confirmed
        return (self.worker.machine.state, self.worker.io.connected, self.worker.last_fault, waiting, confirmed)
