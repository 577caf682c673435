"""Queries about people: employees to choose from, names for ids, who is on site."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.schema import Employee, Person, Visit, Visitor


def employees(
    session: Session,
    *,
    card: str | None = None,
    role: str | None = None,
    department: str | None = None,
    escorts_only: bool = False,
) -> list[Employee]:
    """Active employees by name. ``card`` is matched as readers report it (upper case);
    ``escorts_only`` keeps those who may escort in at least one zone (R10)."""
    q = select(Employee).where(Employee.active.is_(True))
    if card:
        q = q.where(Employee.card == card.strip().upper())
    if role:
        q = q.where(Employee.role == role)
    if department:
        q = q.where(Employee.department == department)
    if escorts_only:
        q = q.where(Employee.escort_zones.any())
    return list(session.scalars(q.order_by(Employee.name, Employee.id)))


def people_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Person]:
    """Persons (visitors and employees) by id, for naming people in events and lists;
    None and unknown ids are left out."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))}


def names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Person id -> name for the ids given (None and unknown ids left out)."""
    return {i: p.name for i, p in people_by_id(session, ids).items()}


def people_on_site(session: Session) -> list[tuple[int, str, str]]:
    """Visitors with an open visit and all active employees, as (id, name, kind), for
    choosing whom a breach is recorded against (R17)."""
    vis = session.execute(
        select(Visitor.id, Visitor.name)
        .join(Visit, Visit.visitor_id == Visitor.id)
        .where(Visit.state != "closed")
        .order_by(Visitor.name)
    ).all()
    emp = session.execute(
        select(Employee.id, Employee.name).where(Employee.active.is_(True)).order_by(Employee.name)
    ).all()
    return [(i, n, "visitor") for i, n in dict(vis).items()] + [(i, n, "employee") for i, n in emp]
