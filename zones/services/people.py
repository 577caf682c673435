"""Employees (web users, escorts) and their API tokens and passwords; visitor registration (R2)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zones.errors import Conflict, NotFound, Problem, ValidationFailed
from zones.idcard import validate_resident_id
from zones.schema import (
    ID_TYPES,
    ROLES,
    ApiToken,
    Badge,
    Department,
    Employee,
    EmployeeAccessZone,
    EmployeeEscortZone,
    Visitor,
)
from zones.services._common import check_zone_ids, employee, normalise_card, record_change, utcnow

_hasher = PasswordHasher()  # argon2-cffi's defaults: RFC 9106's low-memory profile


def configure_password_hashing(parameters: Parameters) -> None:
    """Hash new passwords with these argon2 parameters (e.g. ``argon2.profiles.CHEAPEST`` in
    tests). Stored hashes keep verifying: each carries the parameters it was made with."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ensure_department(session: Session, name: str) -> None:
    if session.scalar(select(Department.id).where(Department.name == name)) is None:
        session.add(Department(name=name))


def _card_in_use(session: Session, card: str, except_employee: int | None = None) -> bool:
    emp = session.scalar(select(Employee.id).where(Employee.card == card))
    if emp is not None and emp != except_employee:
        return True
    return session.scalar(select(Badge.id).where(Badge.card == card, Badge.state == "active")) is not None


def create_user(
    session: Session,
    name: str,
    role: str,
    department: str | None = None,
    escort_zones: list[str] | tuple[str, ...] = (),
    card: str | None = None,
    password: str | None = None,
    *,
    access_zones: list[str] | tuple[str, ...] = (),
    phone: str | None = None,
    on_duty: bool = True,
    dispatch_room: bool = False,
    language: str | None = None,
    zones: dict | None = None,
) -> tuple[Employee, str]:
    """Create an employee / web user and a first API token; returns ``(employee, token)``.

    ``zones`` (config zone map) makes unknown escort / access zones a validation error.
    Raises ValidationFailed (name, role, zones, card) or Conflict (card already in use).
    """
    problems = []
    if not name.strip():
        problems.append(("name", Problem("empty")))
    if role not in ROLES:
        problems.append(("role", Problem("one-of", choices=", ".join(ROLES))))
    if problems:
        raise ValidationFailed(problems)
    escort = check_zone_ids(list(escort_zones), "escort_zones", zones)
    access = check_zone_ids(list(access_zones), "access_zones", zones)
    if card is not None:
        card = normalise_card(card)
        if _card_in_use(session, card):
            raise Conflict(Problem("card-issued", card=card), [f"card {card}"])
    emp = Employee(
        name=name.strip(),
        role=role,
        department=department or None,
        card=card,
        phone=phone,
        password_hash=_hasher.hash(password) if password else None,
        language=language,
        on_duty=on_duty,
        dispatch_room=dispatch_room,
        active=True,
        escort_zones=[EmployeeEscortZone(zone=z) for z in escort],
        access_zones=[EmployeeAccessZone(zone=z) for z in access],
    )
    session.add(emp)
    if department:
        _ensure_department(session, department)
    session.flush()
    token = _new_token(session, emp.id)
    record_change(session, emp.id, "employee")
    session.commit()
    return emp, token


def update_employee(
    session: Session,
    employee_id: int,
    *,
    on_duty: bool | None = None,
    dispatch_room: bool | None = None,
    card: str | None = None,
    active: bool | None = None,
    escort_zones: list[str] | None = None,
    access_zones: list[str] | None = None,
    phone: str | None = None,
    zones: dict | None = None,
) -> Employee:
    """Change what the gates know about an employee (duty, card, zones). None keeps a value;
    ``card=""`` removes the card."""
    emp = session.get(Employee, employee_id)
    if emp is None:
        raise NotFound(Problem("no-such", what="employee", id=employee_id))
    if card is not None:
        new = normalise_card(card) if card else None
        if new and _card_in_use(session, new, except_employee=emp.id):
            raise Conflict(Problem("card-issued", card=new), [f"card {new}"])
        emp.card = new
    for attr, value in (("on_duty", on_duty), ("dispatch_room", dispatch_room), ("active", active), ("phone", phone)):
        if value is not None:
            setattr(emp, attr, value)
    if escort_zones is not None:
        emp.escort_zones = [EmployeeEscortZone(zone=z) for z in check_zone_ids(escort_zones, "escort_zones", zones)]
    if access_zones is not None:
        emp.access_zones = [EmployeeAccessZone(zone=z) for z in check_zone_ids(access_zones, "access_zones", zones)]
    record_change(session, emp.id, "employee")
    session.commit()
    return emp


def set_department_head(session: Session, department: str, employee_id: int | None) -> None:
    """Name the head of a department (who may approve its contact forms, R5)."""
    if employee_id is not None:
        employee(session, employee_id)
    dep = session.scalar(select(Department).where(Department.name == department))
    if dep is None:
        dep = Department(name=department)
        session.add(dep)
    dep.head_id = employee_id
    session.commit()


def department_head(session: Session, department: str) -> int | None:
    return session.scalar(select(Department.head_id).where(Department.name == department))


def _new_token(session: Session, employee_id: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(hash=_token_hash(token), employee_id=employee_id, created=utcnow()))
    return token


def create_token(session: Session, employee_id: int) -> str:
    """A new API token for an employee (only its hash is stored)."""
    employee(session, employee_id)
    token = _new_token(session, employee_id)
    session.commit()
    return token


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.hash == _token_hash(token)))
    if row is None:
        raise NotFound(Problem("no-token"))
    row.revoked_at = utcnow()
    session.commit()


def authenticate_token(session: Session, token: str) -> Employee | None:
    """The active employee holding this unrevoked token, or None."""
    if not token:
        return None
    return session.scalar(
        select(Employee)
        .join(ApiToken, ApiToken.employee_id == Employee.id)
        .where(ApiToken.hash == _token_hash(token), ApiToken.revoked_at.is_(None), Employee.active.is_(True))
    )


def set_password(session: Session, employee_id: int, password: str) -> None:
    if len(password) < 8:
        raise ValidationFailed([("password", Problem("password-short"))])
    employee(session, employee_id).password_hash = _hasher.hash(password)
    session.commit()


def authenticate_password(session: Session, name: str, password: str) -> Employee | None:
    """The active employee called ``name`` whose password matches, or None."""
    for emp in session.scalars(select(Employee).where(Employee.name == name, Employee.active.is_(True))):
        if emp.password_hash:
            try:
                _hasher.verify(emp.password_hash, password)
                return emp
            except (VerificationError, InvalidHashError):
                continue
    return None


def normalise_id_number(id_number: str) -> str:
    return "".join(id_number.split()).upper()


def register_visitor(
    session: Session,
    *,
    name: str,
    id_type: str,
    id_number: str,
    organisation: str = "",
    phone: str | None = None,
    birth_date: date | None = None,
) -> Visitor:
    """Register a visitor (R2). A resident id is checked (GB 11643) and gives the birth date;
    a given birth_date must agree with it. Registering the same document again returns the
    existing visitor (so a returning visitor keeps their education, R8), updating phone and
    organisation; a different name on the same document is a Conflict.
    """
    problems: list[tuple[str, str]] = []
    if not name.strip():
        problems.append(("name", Problem("empty")))
    if id_type not in ID_TYPES:
        problems.append(("id_type", Problem("one-of", choices=", ".join(ID_TYPES))))
    number = normalise_id_number(id_number)
    if not number:
        problems.append(("id_number", Problem("empty")))
    elif id_type == "resident_id":
        try:
            derived = validate_resident_id(number)
        except ValueError as err:
            problems.append(("id_number", err.args[0] if isinstance(err.args[0], Problem) else str(err)))
        else:
            if birth_date is not None and birth_date != derived:
                problems.append(("birth_date", Problem("birth-date-mismatch")))
            birth_date = derived
    if problems:
        raise ValidationFailed(problems)
    existing = session.scalar(select(Visitor).where(Visitor.id_type == id_type, Visitor.id_number == number))
    if existing is not None:
        return _register_again(session, existing, name, organisation, phone, birth_date)
    visitor = Visitor(
        name=name.strip(),
        id_type=id_type,
        id_number=number,
        organisation=organisation,
        phone=phone,
        birth_date=birth_date,
    )
    session.add(visitor)
    try:
        session.flush()
    except IntegrityError:
        # the same document registered concurrently (two desks, a double submit): the other
        # request won, so this one is a registration again
        session.rollback()
        existing = session.scalar(select(Visitor).where(Visitor.id_type == id_type, Visitor.id_number == number))
        if existing is None:
            raise
        return _register_again(session, existing, name, organisation, phone, birth_date)
    record_change(session, visitor.id, "visitor")
    session.commit()
    return visitor


def _register_again(
    session: Session, existing: Visitor, name: str, organisation: str, phone: str | None, birth_date: date | None
) -> Visitor:
    """A document already registered: the returning visitor (same name), whose phone and
    organisation are updated; another name is a Conflict that names nobody, so a guessed
    number confirms no one's identity (R20) to a desk that may not see it."""
    if existing.name.strip().casefold() != name.strip().casefold():
        raise Conflict(Problem("document-other-name"))
    existing.organisation = organisation or existing.organisation
    existing.phone = phone or existing.phone
    existing.birth_date = existing.birth_date or birth_date
    record_change(session, existing.id, "visitor")
    session.commit()
    return existing


def find_visitor(session: Session, id_number: str, id_type: str | None = None) -> Visitor | None:
    """Look a visitor up by document number (normalised like registration)."""
    q = select(Visitor).where(Visitor.id_number == normalise_id_number(id_number))
    if id_type:
        q = q.where(Visitor.id_type == id_type)
    return session.scalars(q).first()
