"""The journal rows of one gate. Every row a gate writes (read, decision, passage, fault,
emergency) carries the same envelope: when, which gate, zone, direction and controller, so
the central events table and ``sitegate audit`` read them all alike (R18)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.journal import Entry, Journal


def utcnow() -> datetime:
    return datetime.now(UTC)


class GateEvents:
    def __init__(self, journal: Journal, controller_id: str, gate_id: str, zone_id: str, direction: str):
        self.journal, self.controller_id = journal, controller_id
        self.gate_id, self.zone_id, self.direction = gate_id, zone_id, direction

    def record(self, kind: str, **fields: Any) -> Entry:
        """Append one event durably (``Journal.append``); ``fields`` are the kind's own."""
        return self.journal.append(
            {
                "at": utcnow(),
                "gate": self.gate_id,
                "zone": self.zone_id,
                "kind": kind,
                "direction": self.direction,
                "controller": self.controller_id,
                **fields,
            }
        )
