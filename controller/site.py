"""What every gate of one controller process shares: the policy, the journal, the access
snapshot, the presence view and the emergency state (R16)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from controller.journal import Journal
from controller.presence import PresenceView
from zones.facts import Policy
from zones.snapshot import Snapshot


def empty_snapshot() -> Snapshot:
    return Snapshot(
        change_no=-1,
        built_at=datetime.now(UTC),
        by_card={},
        by_id={},
        presence={},
        emergency=False,
        emergency_since=None,
    )


@dataclass
class SiteContext:
    """``snapshot`` is swapped whole by the runtime's sync thread; gates read it without
    locks (an attribute read is atomic)."""

    controller_id: str
    policy: Policy
    journal: Journal
    stale_read_s: float
    repeat_read_s: float = 1.0
    presence: PresenceView = field(default_factory=PresenceView)
    snapshot: Snapshot = field(default_factory=empty_snapshot)
    snapshot_ok_at: float | None = None  # monotonic time of the last successful refresh
    alarm_active: bool = False
    command_active: bool = False

    @property
    def emergency_active(self) -> bool:
        return self.alarm_active or self.command_active

    def snapshot_age_s(self) -> float | None:
        if self.snapshot_ok_at is not None:
            return time.monotonic() - self.snapshot_ok_at
        if self.snapshot.change_no >= 0:  # loaded from the disk cache: as old as its build
            return (datetime.now(UTC) - self.snapshot.built_at).total_seconds()
        return None
