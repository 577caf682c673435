"""Alerts: what staff must act on, and who is concerned by each (contract: GET /alerts).

Opened by the controllers' shipped events (R10 unescorted visitors), by reception (R21
routed incidents) and by the deadline sweep (R21-R23 overdue); closed by whoever deals
with them. ``open_alert`` and ``close_alert`` work in the caller's transaction, so an alert
opens or closes together with the record that causes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, false, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from zones.schema import Alert, Employee
from zones.services._common import utcnow

Audience = Literal["members", "safety"]


def open_alert(
    session: Session,
    *,
    key: str,
    kind: str,
    at: datetime | None = None,
    department: str | None = None,
    audience: Audience = "members",
    zone: str | None = None,
    person_id: int | None = None,
    escort_id: int | None = None,
    subject_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> Alert:
    """Open the alert named ``key`` unless it exists (opening twice is one alert); returns it.
    Does not commit."""
    values = {
        "key": key,
        "kind": kind,
        "state": "open",
        "opened_at": at or utcnow(),
        "department": department,
        "audience": audience,
        "zone": zone,
        "person_id": person_id,
        "escort_id": escort_id,
        "subject_id": subject_id,
        "detail": dict(detail or {}),
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Alert).values(**values).on_conflict_do_nothing(index_elements=["key"]))
    alert = session.scalars(select(Alert).where(Alert.key == key)).one()
    return alert


def close_alert(session: Session, alert: Alert, *, by: int | None, note: str, at: datetime | None = None) -> bool:
    """Close ``alert`` (``by``: the employee, None for the system, e.g. the visitors left).
    Returns False when it was closed already. Does not commit."""
    if alert.state == "closed":
        return False
    alert.state, alert.closed_at, alert.closed_by, alert.close_note = "closed", at or utcnow(), by, note
    return True


def open_alerts(
    session: Session, *, kind: str, person_ids: Sequence[int] | None = None, subject_id: int | None = None
) -> list[Alert]:
    """Open alerts of ``kind``, about any of ``person_ids`` / about ``subject_id`` when given."""
    stmt = select(Alert).where(Alert.state == "open", Alert.kind == kind)
    if person_ids is not None:
        stmt = stmt.where(Alert.person_id.in_(list(person_ids)))
    if subject_id is not None:
        stmt = stmt.where(Alert.subject_id == subject_id)
    return list(session.scalars(stmt.order_by(Alert.id)))


def alerts_for(
    session: Session, viewer: Employee, *, state: str | None = None, kind: str | None = None, limit: int = 500
) -> list[Alert]:
    """The alerts ``viewer`` is concerned by, newest first: an admin sees all; anyone else
    those naming them as the escort, and those of their department (all of an incident's
    routed department; only its safety officers where the audience is "safety")."""
    stmt = select(Alert)
    if viewer.role != "admin":
        if not viewer.department:
            own_department: ColumnElement[bool] = false()
        elif viewer.role == "safety_officer":
            own_department = Alert.department == viewer.department
        else:
            own_department = and_(Alert.department == viewer.department, Alert.audience == "members")
        stmt = stmt.where(or_(Alert.escort_id == viewer.id, own_department))
    if state is not None:
        stmt = stmt.where(Alert.state == state)
    if kind is not None:
        stmt = stmt.where(Alert.kind == kind)
    return list(session.scalars(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit)))
