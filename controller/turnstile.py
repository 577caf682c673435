"""The turnstile cycle as an explicit state table, and the worker that carries it out.

The table does no I/O: ``TurnstileMachine.fire(event)`` moves to the next state and
returns the actions for the worker to perform. An event that is illegal in a state raises
``IllegalTransition`` rather than being ignored, so a wiring mistake shows up in tests.

    state       event        -> state       actions
    ready       release         released    pulse            (coil 1 for pulse_ms, then 0)
    released    passed          ready       record_passed
    released    timeout         ready       record_not_passed
    *           fault           faulted     (entries locked: nothing can be released)
    faulted     recovered       ready
    ready       emergency       emergency   hold_open (exit gates) / lock (entry gates)
    released    emergency       emergency   record_not_passed, hold_open / lock
    faulted     emergency       emergency   hold_open / lock (tried; exits are mechanical too)
    emergency   clear           ready       release_hold (exit gates)
    emergency   fault           emergency   (stays in emergency; the hold is retried)
"""

from __future__ import annotations

import threading
from enum import Enum


class TState(str, Enum):
    READY = "ready"
    RELEASED = "released"
    FAULTED = "faulted"
    EMERGENCY = "emergency"


class IllegalTransition(RuntimeError):
    pass


_T = TState
# (state, event) -> (next state, actions); "hold" is resolved per direction by the worker.
TABLE: dict[tuple[TState, str], tuple[TState, tuple[str, ...]]] = {
    (_T.READY, "release"): (_T.RELEASED, ("pulse",)),
    (_T.RELEASED, "passed"): (_T.READY, ("record_passed",)),
    (_T.RELEASED, "timeout"): (_T.READY, ("record_not_passed",)),
    (_T.READY, "fault"): (_T.FAULTED, ()),
    (_T.RELEASED, "fault"): (_T.FAULTED, ("record_not_passed",)),
    (_T.FAULTED, "fault"): (_T.FAULTED, ()),
    (_T.FAULTED, "recovered"): (_T.READY, ()),
    (_T.READY, "emergency"): (_T.EMERGENCY, ("hold",)),
    (_T.RELEASED, "emergency"): (_T.EMERGENCY, ("record_not_passed", "hold")),
    (_T.FAULTED, "emergency"): (_T.EMERGENCY, ("hold",)),
    (_T.EMERGENCY, "emergency"): (_T.EMERGENCY, ("hold",)),
    (_T.EMERGENCY, "clear"): (_T.READY, ("release_hold",)),
    (_T.EMERGENCY, "fault"): (_T.EMERGENCY, ()),
    (_T.EMERGENCY, "recovered"): (_T.EMERGENCY, ("hold",)),
}


class TurnstileMachine:
    """Current state plus the table. Thread-safe."""

    def __init__(self) -> None:
        self.state = TState.READY
        self._lock = threading.Lock()

    def can(self, event: str) -> bool:
        return (self.state, event) in TABLE

    def fire(self, event: str) -> tuple[str, ...]:
        with self._lock:
            try:
                nxt, actions = TABLE[(self.state, event)]
            except KeyError:
                raise IllegalTransition(f"{event!r} is not allowed in state {self.state.value!r}") from None
            self.state = nxt
            return actions
