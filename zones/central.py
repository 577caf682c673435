"""What controllers write to and read from the central database besides the snapshot:
shipping journalled events (idempotent by key, R18), presence from passages (R15, R16),
gate health, the site state (emergency, R16) and the change number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zones.schema import Change, Event, GateHealth, Person, Presence, SiteState
from zones.services._common import record_change

_EVENT_COLUMNS = (
    "key",
    "at",
    "gate",
    "zone",
    "controller",
    "kind",
    "card",
    "person_id",
    "escort_id",
    "allowed",
    "reasons",
    "passed",
    "direction",
    "detail",
)
_CHUNK = 200  # rows per INSERT (SQLite caps bound parameters per statement)


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def current_change_no(session: Session) -> int:
    """The newest number of the change sequence (0 for a new database)."""
    return int(session.scalar(select(func.coalesce(func.max(Change.no), 0))) or 0)


@dataclass(frozen=True)
class SiteFlags:
    emergency_active: bool
    emergency_since: datetime | None
    emergency_reason: str | None
    emergency_source: str | None


def read_site_state(session: Session) -> SiteFlags:
    """The emergency flags (R16) as set from the panel or an alarm."""
    row = session.execute(
        select(
            SiteState.emergency_active,
            SiteState.emergency_since,
            SiteState.emergency_reason,
            SiteState.emergency_source,
        ).where(SiteState.id == 1)
    ).first()
    if row is None:
        return SiteFlags(False, None, None, None)
    return SiteFlags(bool(row[0]), row[1], row[2], row[3])


def _event_row(e: dict[str, Any]) -> dict[str, Any]:
    row = {c: e.get(c) for c in _EVENT_COLUMNS}
    if not row["key"] or not isinstance(row["at"], datetime) or row["at"].tzinfo is None or not row["kind"]:
        raise ValueError("an event needs key, kind and an aware datetime 'at'")
    row["reasons"] = list(row["reasons"] or [])
    row["detail"] = dict(row["detail"] or {})
    return row


def ship_events(session: Session, events: list[dict[str, Any]]) -> int:
    """Insert journalled events; a key already stored is skipped (idempotent re-shipping).
    Returns how many were new. Each new passage (kind "passage", passed true) moves the
    person: direction "in" records them inside the zone, "out" removes them; a change row
    tells the other controllers. Commits."""
    rows = list({r["key"]: r for r in map(_event_row, events)}.values())
    new_keys: set[str] = set()
    table = cast(Table, Event.__table__)
    for i in range(0, len(rows), _CHUNK):
        stmt = _insert(session, table).values(rows[i : i + _CHUNK]).on_conflict_do_nothing(index_elements=["key"])
        new_keys.update(session.scalars(stmt.returning(table.c.key)))
    passages = sorted(
        (
            r
            for r in rows
            if r["key"] in new_keys
            and r["kind"] == "passage"
            and r["passed"]
            and r["person_id"] is not None
            and r["zone"]
        ),
        key=lambda r: r["at"],
    )
    if passages:
        known = set(session.scalars(select(Person.id).where(Person.id.in_({r["person_id"] for r in passages}))))
        for r in passages:
            if r["person_id"] in known:
                _move(session, r)
    session.commit()
    return len(new_keys)


def _move(session: Session, r: dict[str, Any]) -> None:
    pid, zone, at = r["person_id"], r["zone"], r["at"]
    table = cast(Table, Presence.__table__)
    if r.get("direction") == "out":
        session.execute(table.delete().where(table.c.person_id == pid, table.c.zone == zone, table.c.entered_at <= at))
    else:
        ins = _insert(session, table).values(
            person_id=pid, zone=zone, entered_at=at, escort_id=r.get("escort_id"), accounted=False
        )
        # a late-shipped older passage must not overwrite a newer one
        session.execute(
            ins.on_conflict_do_update(
                index_elements=["person_id"],
                set_={
                    "zone": ins.excluded.zone,
                    "entered_at": ins.excluded.entered_at,
                    "escort_id": ins.excluded.escort_id,
                    "accounted": False,
                },
                where=table.c.entered_at <= ins.excluded.entered_at,
            )
        )
    record_change(session, pid, "presence")


def report_gate_health(
    session: Session, gate_id: str, controller: str, state: str, snapshot_age_s: float | None, detail: dict[str, Any]
) -> None:
    """Upsert the gate's latest health (shown on the panel). Commits."""
    values = {
        "gate_id": gate_id,
        "controller": controller,
        "updated_at": datetime.now(UTC),
        "state": state,
        "snapshot_age_s": snapshot_age_s,
        "detail": dict(detail),
    }
    ins = _insert(session, cast(Table, GateHealth.__table__)).values(**values)
    session.execute(
        ins.on_conflict_do_update(
            index_elements=["gate_id"], set_={k: ins.excluded[k] for k in values if k != "gate_id"}
        )
    )
    session.commit()
