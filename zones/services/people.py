"""Employees (web users, escorts) and their API tokens and passwords; visitor registration (R2).

Accounts (issue 10): passwords have a minimum length (config ``[web] min_password_length``);
API tokens expire (``[web] token_days``) and record their last use; each employee has a
session generation that the panel's session cookie carries, bumped on sign-out, password
change and deactivation, so an older cookie no longer signs anyone in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

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
# verified against when a user name is unknown, so that an unknown name costs as much time
# as a known one and the answer's speed does not tell which names exist
_dummy_hash: str | None = None

MIN_PASSWORD_LENGTH = 12  # config [web] min_password_length
LAST_USED_RESOLUTION = timedelta(minutes=1)  # a token's last use is written at most this often


def configure_password_hashing(parameters: Parameters) -> None:
    """Hash new passwords with these argon2 parameters (e.g. ``argon2.profiles.CHEAPEST`` in
    tests). Stored hashes keep verifying: each carries the parameters it was made with."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher.from_parameters(parameters)
    _dummy_hash = None


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def _check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise ValidationFailed([("password", Problem("password-short", min=min_length))])


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
    min_password_length: int = MIN_PASSWORD_LENGTH,
    token_days: int | None = None,
    login: str | None = None,
) -> tuple[Employee, str]:
    """Create an employee / web user and a first API token; returns ``(employee, token)``.

    ``zones`` (config zone map) makes unknown escort / access zones a validation error.
    ``token_days``: the token expires after that many days (None: never). ``login``: a
    sign-in name apart from ``name`` (unique); without it the name is the sign-in name.
    Raises ValidationFailed (name, role, zones, card, password) or Conflict (card in use).
    """
    if password:
        _check_password(password, min_password_length)
    problems = []
    if not name.strip():
        problems.append(("name", Problem("empty")))
    if role not in ROLES:
        problems.append(("role", Problem("one-of", choices=", ".join(ROLES))))
    login = login.strip() if login and login.strip() else None
    if login is not None and session.scalar(select(Employee.id).where(signs_in_as(login)).limit(1)):
        problems.append(("login", Problem("login-taken", login=login)))
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
        login=login,
        role=role,
        department=department or None,
        card=card,
        phone=phone,
        password_hash=_hasher.hash(password) if password else None,
        password_changed_at=utcnow() if password else None,
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
    token = _new_token(session, emp.id, token_days)
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


def _new_token(session: Session, employee_id: int, days: int | None = None) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=days) if days is not None else None
    session.add(ApiToken(hash=_token_hash(token), employee_id=employee_id, created=now, expires_at=expires))
    return token


def create_token(session: Session, employee_id: int, days: int | None = None) -> str:
    """A new API token for an employee (only its hash is stored), expiring after ``days``."""
    employee(session, employee_id)
    token = _new_token(session, employee_id, days)
    session.commit()
    return token


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.hash == _token_hash(token)))
    if row is None:
        raise NotFound(Problem("no-token"))
    row.revoked_at = utcnow()
    session.commit()


def list_tokens(session: Session, employee_id: int) -> list[ApiToken]:
    """Every token the employee was given, oldest first (their hashes, never the tokens)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.employee_id == employee_id).order_by(ApiToken.id)))


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def revoke_tokens(session: Session, employee_id: int, token_id: int | None = None) -> int:
    """Revoke the employee's unrevoked tokens (only ``token_id`` when given); returns how
    many were revoked. A ``token_id`` that is not theirs is NotFound."""
    q = select(ApiToken).where(ApiToken.employee_id == employee_id, ApiToken.revoked_at.is_(None))
    if token_id is not None:
        q = q.where(ApiToken.id == token_id)
        if (
            session.scalar(select(ApiToken.id).where(ApiToken.id == token_id, ApiToken.employee_id == employee_id))
            is None
        ):
            raise NotFound(Problem("no-token"))
    now = utcnow()
    rows = list(session.scalars(q))
    for row in rows:
        row.revoked_at = now
    session.commit()
    return len(rows)


def authenticate_token(session: Session, token: str) -> Employee | None:
    """The active employee holding this unrevoked, unexpired token, or None. Notes the
    token's last use (to the minute)."""
    if not token:
        return None
    now = utcnow()
    row = session.scalar(
        select(ApiToken)
        .join(Employee, ApiToken.employee_id == Employee.id)
        .where(
            ApiToken.hash == _token_hash(token),
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
            Employee.active.is_(True),
        )
    )
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.commit()
    return session.get(Employee, row.employee_id)


def signs_in_as(name: str) -> ColumnElement[bool]:
    """Employees whose sign-in name is ``name``: their login, or their name when they have
    no login."""
    name = name.strip()
    return or_(Employee.login == name, and_(Employee.login.is_(None), Employee.name == name))


def user_by_name(session: Session, name: str) -> Employee:
    """The employee who signs in as ``name`` (active or not); NotFound when there is none."""
    emp = session.scalars(select(Employee).where(signs_in_as(name)).order_by(Employee.id)).first()
    if emp is None:
        raise NotFound(Problem("no-such-user", name=name))
    return emp


def list_users(session: Session) -> list[Employee]:
    return list(session.scalars(select(Employee).order_by(Employee.active.desc(), Employee.name)))


def set_password(
    session: Session,
    employee_id: int,
    password: str,
    *,
    min_length: int = MIN_PASSWORD_LENGTH,
    current: str | None = None,
) -> int:
    """Give the employee a new panel password; ``current``, when given, must be their present
    one (an employee changing their own). Ends their other page sessions (the generation
    moves on); returns the new session generation."""
    emp = employee(session, employee_id)
    if current is not None and not _verifies(emp.password_hash, current):
        raise ValidationFailed([("current_password", Problem("password-wrong"))])
    _check_password(password, min_length)
    emp.password_hash = _hasher.hash(password)
    emp.password_changed_at = utcnow()
    emp.session_generation += 1
    session.commit()
    return emp.session_generation


def end_sessions(session: Session, employee_id: int) -> None:
    """Sign the employee out of every page session (sign-out: a copied cookie stops working)."""
    emp = session.get(Employee, employee_id)
    if emp is not None:
        emp.session_generation += 1
        session.commit()


def deactivate_user(session: Session, employee_id: int) -> Employee:
    """The employee can no longer sign in nor use any token; their sessions end and their
    tokens are revoked (the gates stop knowing their card at the next snapshot)."""
    emp = employee(session, employee_id)
    emp.active = False
    emp.session_generation += 1
    now = utcnow()
    for row in session.scalars(select(ApiToken).where(ApiToken.employee_id == emp.id, ApiToken.revoked_at.is_(None))):
        row.revoked_at = now
    record_change(session, emp.id, "employee")
    session.commit()
    return emp


def _verifies(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate_password(session: Session, name: str, password: str) -> Employee | None:
    """The active employee called ``name`` whose password matches, or None. An unknown name,
    or one without a password, is verified against a dummy hash: it takes as long."""
    candidates = [
        emp
        for emp in session.scalars(select(Employee).where(signs_in_as(name), Employee.active.is_(True)))
        if emp.password_hash
    ]
    if not candidates:
        _verifies(None, password)
        return None
    for emp in candidates:
        if _verifies(emp.password_hash, password):
            return emp
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
