"""The turnstile cycle as an explicit state table.

The table does no I/O: ``TurnstileMachine.fire(event)`` moves to the next state and
returns the actions that ``controller.cycle.TurnstileWorker`` carries out, in order. An
event that is illegal in a state raises ``IllegalTransition`` rather than being ignored,
so a wiring mistake shows up in tests.

    state      event      -> state      actions
    ready      release       released   pulse
    released   passed        ready      record_passed
    released   timeout       ready      record_not_passed
    released   fault         faulted    record_fault, record_not_passed
    faulted    recovered     ready      record_recovered
    ready      emergency     emergency  record_emergency, hold
    released   emergency     emergency  record_emergency, record_not_passed, hold
    faulted    emergency     emergency  record_emergency, hold
    emergency  emergency     emergency  record_emergency, hold
    emergency  clear         ready      record_clear, release_hold
    emergency  recovered     emergency  hold

pulse: set the release coil for ``pulse_ms`` and watch the passage input; it ends with
the event ``passed``, ``timeout`` (nobody within ``pass_timeout_s``, an emergency began
or the controller stops) or ``fault`` (the I/O module did not answer). record_*: journal
the passage (passed or not), the fault, the recovery or the emergency. hold: free egress
(R16), exit turnstiles held open and entries held locked; release_hold: the coil back to
rest.

``recovered`` comes from the worker's probe of a faulted gate's I/O module, and in an
emergency from every probe, so that a module that restarted with its coils at rest is
held again. ``released`` meets ``emergency`` only when a worker error cut a pulse short.
A release is an event only when the turnstile is ready: in any other state the worker
records the passage without one (R16: in an emergency, exits count as passed).
"""

from __future__ import annotations

import threading
from enum import StrEnum


class TState(StrEnum):
    READY = "ready"
    RELEASED = "released"
    FAULTED = "faulted"
    EMERGENCY = "emergency"


class IllegalTransition(RuntimeError):
    pass


_T = TState
# (state, event) -> (next state, actions)
TABLE: dict[tuple[TState, str], tuple[TState, tuple[str, ...]]] = {
    (_T.READY, "release"): (_T.RELEASED, ("pulse",)),
    (_T.RELEASED, "passed"): (_T.READY, ("record_passed",)),
    (_T.RELEASED, "timeout"): (_T.READY, ("record_not_passed",)),
    (_T.RELEASED, "fault"): (_T.FAULTED, ("record_fault", "record_not_passed")),
    (_T.FAULTED, "recovered"): (_T.READY, ("record_recovered",)),
    (_T.READY, "emergency"): (_T.EMERGENCY, ("record_emergency", "hold")),
    (_T.RELEASED, "emergency"): (_T.EMERGENCY, ("record_emergency", "record_not_passed", "hold")),
    (_T.FAULTED, "emergency"): (_T.EMERGENCY, ("record_emergency", "hold")),
    (_T.EMERGENCY, "emergency"): (_T.EMERGENCY, ("record_emergency", "hold")),
    (_T.EMERGENCY, "clear"): (_T.READY, ("record_clear", "release_hold")),
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
