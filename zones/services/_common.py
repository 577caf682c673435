"""Helpers every service module uses: the clock, the change sequence, lookups that raise
domain errors, and role checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from zones.errors import NotAllowed, NotFound, Problem, ValidationFailed
from zones.schema import Change, Employee

T = TypeVar("T")

# pg_advisory_xact_lock key: change numbers are handed out in commit order (see record_change)
_CHANGE_LOCK = 0x5347_4348
CHANGES_CHANNEL = "sitegate_changes"  # LISTENed to by controller.notify
_NOT_NOTIFIED = {"presence"}
ZONE_ID = re.compile(r"^[a-z0-9-]+$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime, field: str) -> datetime:
    """``value`` as an aware UTC datetime; a naive one is a ValidationFailed on ``field``."""
    if value.tzinfo is None:
        raise ValidationFailed([(field, Problem("needs-offset"))])
    return value.astimezone(UTC)


def record_change(session: Session, person_id: int | None, what: str, at: datetime | None = None) -> None:
    """Add a row to the change sequence in the caller's transaction. Controllers rebuild the
    person named (or everyone when ``person_id`` is None) once it commits.

    On PostgreSQL a transaction-scoped advisory lock makes numbers follow commit order, so a
    controller that has seen number N has seen every change below N too; and a NOTIFY on
    ``sitegate_changes`` (delivered at commit, never before) wakes the controllers at once
    (controller.notify). Presence moves are not notified: shipping writes one per passage,
    at the pace of the gates, and the controllers' next poll takes them (they also hold
    their own passages already). SQLite controllers find every change by polling.
    """
    change = Change(person_id=person_id, what=what, at=at or utcnow())
    if session.get_bind().dialect.name != "postgresql":
        session.add(change)
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHANGE_LOCK})
    session.add(change)
    if what not in _NOT_NOTIFIED:
        session.flush()
        session.execute(text("SELECT pg_notify(:channel, :no)"), {"channel": CHANGES_CHANNEL, "no": str(change.no)})


def get_or_404(session: Session, model: type[T], ident: object, what: str) -> T:
    obj = session.get(model, ident)
    if obj is None:
        raise NotFound(Problem("no-such", what=what, id=ident))
    return obj


def employee(session: Session, employee_id: int, what: str = "employee") -> Employee:
    emp = session.get(Employee, employee_id)
    if emp is None or not emp.active:
        raise NotFound(Problem("no-such-active", what=what, id=employee_id))
    return emp


def require_role(emp: Employee, roles: tuple[str, ...], action: str) -> None:
    if emp.role not in roles:
        raise NotAllowed(Problem("needs-role", action=action, roles=", ".join(roles), name=emp.name, role=emp.role))


def normalise_card(card: str, field: str = "card") -> str:
    """Card numbers as the readers report them: upper case, no spaces."""
    c = card.strip().upper()
    if not c or len(c) > 64 or not c.isprintable() or " " in c:
        raise ValidationFailed([(field, Problem("card-number"))])
    return c


def check_zone_ids(zone_ids: list[str] | tuple[str, ...], field: str, known: dict | None = None) -> list[str]:
    """Validate zone ids (format, and existence when ``known`` zones are given)."""
    problems = [(field, Problem("bad-zone", zone=z)) for z in zone_ids if not ZONE_ID.match(z)]
    if known is not None:
        problems += [(field, Problem("unknown-zone", zone=z)) for z in zone_ids if ZONE_ID.match(z) and z not in known]
    if problems:
        raise ValidationFailed(problems)
    return sorted(set(zone_ids))
