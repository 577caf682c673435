"""Custody at an exit (R10): "whoever escorts is responsible". When an escort's exit
passage leaves visitors of theirs inside the zone, the gate journals an "alert" event
naming them, at once and without the database; the centre opens one "unescorted" alert
per visitor when the event is shipped (``zones.central.ship_events``)."""

from __future__ import annotations

from controller.events import GateEvents
from controller.journal import Entry
from controller.presence import PresenceView

UNESCORTED = "unescorted"


def raise_unescorted(
    events: GateEvents, presence: PresenceView, escort_id: int, department: str, passage_key: str
) -> Entry | None:
    """Journal the unescorted alert for the visitors ``escort_id`` left in the gate's zone,
    if any. ``department`` is the zone's (its safety officers are alerted)."""
    left_behind = presence.in_charge(escort_id, events.zone_id)
    if not left_behind:
        return None
    return events.record(
        "alert",
        person_id=escort_id,
        escort_id=escort_id,
        detail={"alert": UNESCORTED, "visitors": left_behind, "department": department, "passage": passage_key},
    )
