"""Visitor entry contact forms (R5): created pending with their escorts of record (R10) and
the permissions they grant (R13); each department of the form's zones approves for itself
(its head or a safety officer), and the form is approved once none is pending. Only those
same people, or an admin, may revoke it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.config import SiteConfig
from zones.errors import Conflict, NotAllowed, Problem, ValidationFailed
from zones.facts import Zone
from zones.schema import (
    ContactForm,
    ContactFormApproval,
    ContactFormEscort,
    ContactFormZone,
    Department,
    Employee,
    Visitor,
)
from zones.services._common import aware, check_zone_ids, employee, get_or_404, record_change, utcnow

# R13: what a form may grant; anything else is refused so a typo never grants nothing silently
FORM_PERMISSIONS = ("photography", "electrical-devices", "vehicle")


def known_departments(config: SiteConfig) -> list[str]:
    """Department ids as config.toml names them: the zones', the safety and dispatch
    departments (R6), those the reception routes to (R21) and those ``[[departments]]`` names."""
    return sorted(
        {z.department for z in config.zones}
        | {d.id for d in config.departments}
        | {config.site.safety_department, config.site.dispatch_department}
        | set(config.reception.routing.model_dump().values())
    )


def may_escort_in(escort: Employee, zone_id: str, known_zones: dict[str, Zone] | None) -> bool:
    """R10: an employee of the zone's department, or one explicitly authorised for the zone."""
    if zone_id in escort.escort_zone_ids:
        return True
    zone = (known_zones or {}).get(zone_id)
    return zone is not None and escort.department is not None and escort.department == zone.department


def _escorts(
    session: Session, escort_ids: list[int], zone_ids: list[str], known_zones: dict[str, Zone] | None, field: str
) -> list[Employee]:
    problems: list[tuple[str, str]] = []
    escorts: list[Employee] = []
    for escort_id in dict.fromkeys(escort_ids):
        escort = session.get(Employee, escort_id)
        if escort is None or not escort.active:
            problems.append((field, Problem("no-such-active", what="employee", id=escort_id)))
            continue
        missing = [z for z in zone_ids if not may_escort_in(escort, z, known_zones)]
        if missing:
            problems.append((field, Problem("may-not-escort", escort=escort.name, zones=", ".join(missing))))
        escorts.append(escort)
    if problems:
        raise ValidationFailed(problems)
    return escorts


def create_contact_form(
    session: Session,
    *,
    visitor_id: int,
    zones: list[str],
    purpose: str,
    valid_from: datetime,
    valid_until: datetime,
    escort_ids: list[int] | None = None,
    escort_id: int | None = None,
    permissions: Iterable[str] = (),
    outside_hours: bool = False,
    created_by: int | None = None,
    known_zones: dict[str, Zone] | None = None,
    now: datetime | None = None,
) -> ContactForm:
    """A pending contact form for ``zones`` (ids) naming one or more escorts of record
    (``escort_ids``; ``escort_id`` is the older single-escort spelling). Each escort must be
    authorised to escort in each zone (R10). ``known_zones`` (config) makes unknown zones an
    error and lets an employee of a zone's department escort there."""
    get_or_404(session, Visitor, visitor_id, "visitor")
    ids = list(escort_ids or []) + ([escort_id] if escort_id is not None else [])
    granted = list(dict.fromkeys(permissions))
    problems: list[tuple[str, str]] = []
    if not zones:
        problems.append(("zones", Problem("no-zones")))
    if not ids:
        problems.append(("escort_ids", Problem("no-escort")))
    unknown = [p for p in granted if p not in FORM_PERMISSIONS]
    if unknown:
        problems.append(
            ("permissions", Problem("unknown-choice", given=", ".join(unknown), choices=", ".join(FORM_PERMISSIONS)))
        )
    if not purpose.strip():
        problems.append(("purpose", Problem("empty-r5")))
    valid_from = aware(valid_from, "valid_from")
    valid_until = aware(valid_until, "valid_until")
    if valid_until <= valid_from:
        problems.append(("valid_until", Problem("after-valid-from")))
    if problems:
        raise ValidationFailed(problems)
    zone_ids = check_zone_ids(list(zones), "zones", known_zones)
    # name the field the caller used: the older single-escort spelling is still accepted
    escorts = _escorts(session, ids, zone_ids, known_zones, "escort_ids" if escort_ids else "escort_id")
    if created_by is not None:
        employee(session, created_by, "creator")
    form = ContactForm(
        visitor_id=visitor_id,
        escort_id=escorts[0].id,  # the first escort named, for readers of the single-escort column
        purpose=purpose.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        outside_hours=outside_hours,
        permissions=granted,
        state="pending",
        created_by=created_by,
        created_at=now or utcnow(),
        zones=[ContactFormZone(zone=z) for z in zone_ids],
        escorts=[ContactFormEscort(employee_id=e.id) for e in escorts],
    )
    session.add(form)
    session.commit()  # pending forms do not change any decision: no change row
    return form


def may_approve(session: Session, approver: Employee, department: str) -> bool:
    """R5: the department's head, or a safety officer of that department."""
    if approver.role == "safety_officer" and approver.department == department:
        return True
    head = session.scalar(select(Department.head_id).where(Department.name == department))
    return head is not None and head == approver.id


def form_departments(form: ContactForm, zones: dict[str, Zone]) -> list[str]:
    """The departments owning the form's zones: each must approve (R5)."""
    unknown = [z for z in form.zone_ids if z not in zones]
    if unknown:
        raise ValidationFailed([("zones", Problem("unknown-zone", zone=z)) for z in unknown])
    return sorted({zones[z].department for z in form.zone_ids})


def pending_departments(form: ContactForm, zones: dict[str, Zone]) -> list[str]:
    """The form's departments that have not approved yet (empty once approved or for a
    form approved before approvals were kept per department)."""
    if form.state != "pending":
        return []
    done = {a.department for a in form.approvals}
    # lenient: a zone since removed from config.toml must not break showing the form
    departments = {zones[z].department for z in form.zone_ids if z in zones}
    return sorted(d for d in departments if d not in done)


def approvable_departments(session: Session, form: ContactForm, who: Employee, zones: dict[str, Zone]) -> list[str]:
    """The form's departments ``who`` may approve for (and so revoke for)."""
    return [d for d in form_departments(form, zones) if may_approve(session, who, d)]


def approve_contact_form(
    session: Session,
    form_id: int,
    approver_id: int,
    zones: dict[str, Zone],
    *,
    now: datetime | None = None,
) -> ContactForm:
    """Approve a pending form for every department of its zones the approver heads or is a
    safety officer of (R5); ``zones`` is the config's zone map. The form becomes approved
    when no department is pending. NotAllowed when the approver may approve for none."""
    form = get_or_404(session, ContactForm, form_id, "contact form")
    approver = employee(session, approver_id, "approver")
    if form.state != "pending":
        raise Conflict(Problem("form-not-pending", state=form.state), [f"form {form.id}"])
    mine = approvable_departments(session, form, approver, zones)
    if not mine:
        depts = form_departments(form, zones)
        raise NotAllowed(Problem("approver", departments=", ".join(depts), zones=", ".join(form.zone_ids)))
    pending = pending_departments(form, zones)
    todo = [d for d in mine if d in pending]
    if not todo:
        raise Conflict(Problem("already-approved", departments=", ".join(mine)), [f"form {form.id}"])
    now = now or utcnow()
    form.approvals.extend(ContactFormApproval(department=d, approved_by=approver.id, at=now) for d in todo)
    if not [d for d in pending if d not in todo]:
        form.state = "approved"
        form.approved_by = approver.id
        form.approved_at = now
        record_change(session, form.visitor_id, "form")
    session.commit()
    return form


def revoke_contact_form(
    session: Session,
    form_id: int,
    by: int,
    reason: str = "",
    *,
    zones: dict[str, Zone],
    now: datetime | None = None,
) -> ContactForm:
    """Revoke a pending or approved form; the gates stop honouring it at their next refresh.
    R5: only someone who may approve for one of its departments, or an admin."""
    form = get_or_404(session, ContactForm, form_id, "contact form")
    who = employee(session, by)
    if who.role != "admin" and not approvable_departments(session, form, who, zones):
        depts = form_departments(form, zones)
        raise NotAllowed(Problem("revoker", departments=", ".join(depts)))
    if form.state == "revoked":
        raise Conflict(Problem("form-revoked"), [f"form {form.id}"])
    form.state = "revoked"
    form.revoked_by = who.id
    form.revoked_at = now or utcnow()
    form.revoke_reason = reason.strip() or None
    record_change(session, form.visitor_id, "form")
    session.commit()
    return form


def granted_permissions(session: Session, visitor_id: int) -> list[str]:
    """R13: what the visitor's forms that are not revoked permit (photography, ...), for the
    education card and the handheld lookup."""
    granted: set[str] = set()
    for perms in session.scalars(
        select(ContactForm.permissions).where(ContactForm.visitor_id == visitor_id, ContactForm.state != "revoked")
    ):
        granted.update(perms or [])
    return [p for p in FORM_PERMISSIONS if p in granted]
