"""What controllers write to and read from the central database besides the snapshot:
shipping journalled events (idempotent by key, R18), presence from passages (R15, R16),
unescorted alerts from the gates' custody events (R10), gate health, the site state
(emergency, R16) and the change number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zones.schema import Alert, Change, Event, GateHealth, Person, Presence, SiteState
from zones.services._common import record_change
from zones.services.alerts import close_alert, open_alert

UNESCORTED = "unescorted"  # the alert kind of R10 custody (controller.custody)

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
    Returns how many were new. Then, in time order, each new passage (kind "passage",
    passed true) moves the person: direction "in" records them inside the zone, "out"
    removes them; one change row per moved person tells the other controllers. Each new custody event (kind
    "alert", ``detail.alert`` "unescorted") opens one alert per visitor still inside the
    zone (R10); a visitor's passage out of it, or their escort's return, closes it. Commits."""
    rows = list({r["key"]: r for r in map(_event_row, events)}.values())
    new_keys: set[str] = set()
    table = cast(Table, Event.__table__)
    for i in range(0, len(rows), _CHUNK):
        stmt = _insert(session, table).values(rows[i : i + _CHUNK]).on_conflict_do_nothing(index_elements=["key"])
        new_keys.update(session.scalars(stmt.returning(table.c.key)))
    follow = sorted((r for r in rows if r["key"] in new_keys and r["zone"] and _follows_up(r)), key=lambda r: r["at"])
    moved: set[int] = set()
    if follow:
        ids = {r["person_id"] for r in follow} | {v for r in follow for v in _alerted(r)}
        known = set(session.scalars(select(Person.id).where(Person.id.in_(ids))))
        for r in follow:
            if r["kind"] == "alert":
                _open_unescorted(session, r, known)
            elif r["person_id"] in known:
                _move(session, r)
                moved.add(r["person_id"])
                _custody_after_passage(session, r)
    # The change rows last, just before the commit: on PostgreSQL record_change takes the
    # change-number lock until the commit, and every writer of the site (a badge reported
    # lost at the desk, R3) waits for it. Taken at the first passage, it was held through
    # the whole batch's presence and alert work: seconds under load, at 200 gates tens of
    # seconds, all of it added to the desk's call and to the lost badge's propagation.
    for pid in sorted(moved):
        record_change(session, pid, "presence")
    session.commit()
    return len(new_keys)


def _follows_up(r: dict[str, Any]) -> bool:
    if r["kind"] == "passage":
        return bool(r["passed"]) and r["person_id"] is not None
    return r["kind"] == "alert" and r["detail"].get("alert") == UNESCORTED and r["escort_id"] is not None


def _alerted(r: dict[str, Any]) -> list[int]:
    return [int(v) for v in r["detail"].get("visitors", [])] if r["kind"] == "alert" else []


def _open_unescorted(session: Session, r: dict[str, Any], known: set[int]) -> None:
    """R10: one alert per visitor the escort left inside; a visitor the centre already saw
    leave (another controller's exit shipped first) is not alerted."""
    still_inside = set(
        session.scalars(
            select(Presence.person_id).where(
                Presence.person_id.in_([v for v in _alerted(r) if v in known]), Presence.zone == r["zone"]
            )
        )
    )
    for visitor in _alerted(r):
        if visitor in still_inside:
            open_alert(
                session,
                key=f"{r['key']}:{visitor}",
                kind=UNESCORTED,
                at=r["at"],
                department=r["detail"].get("department"),
                audience="safety",
                zone=r["zone"],
                person_id=visitor,
                escort_id=r["escort_id"],
                detail={"gate": r["gate"], "event": r["key"]},
            )


def _custody_after_passage(session: Session, r: dict[str, Any]) -> None:
    """Close the unescorted alerts a passage ends: the visitor left the zone (or walked
    into another), or the escort came back into it."""
    pid, zone = r["person_id"], r["zone"]
    stmt = select(Alert).where(Alert.state == "open", Alert.kind == UNESCORTED)
    if r.get("direction") == "out":
        ended = stmt.where(Alert.person_id == pid, Alert.zone == zone)
    else:
        ended = stmt.where(
            or_(and_(Alert.person_id == pid, Alert.zone != zone), and_(Alert.escort_id == pid, Alert.zone == zone))
        )
    for alert in session.scalars(ended):
        if alert.person_id != pid:
            note = "the escort came back"
        elif r.get("direction") == "out":
            note = "the visitor left the zone"
        else:
            note = "the visitor moved to another zone"
        close_alert(session, alert, by=None, note=note, at=r["at"])


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
                    # a person who moved is counted again at the muster (R16), marker and all
                    "accounted": False,
                    "accounted_by": None,
                    "accounted_at": None,
                },
                where=table.c.entered_at <= ins.excluded.entered_at,
            )
        )


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
