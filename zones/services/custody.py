"""Custody of visitors inside a zone (R10: "whoever escorts is responsible").

An escort who leaves a zone with visitors of theirs still inside leaves them unescorted:
the gate raises it (controller.custody) and the centre opens one "unescorted" alert per
visitor (zones.central). The alert closes when the visitor leaves, when the escort comes
back, or when another authorised escort takes the visitor over here: the visitor's
presence passes into the new escort's charge (the gates see it through the change
sequence) and the new escort is recorded on the visitor's contact form as a substitute.

Who is concerned by an unescorted alert: the escort who left and the zone department's
safety officers (zones.services.alerts.alerts_for), and every employee who may escort in
that zone, since any of them may take the visitors over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from zones.calendar import local
from zones.errors import Conflict, NotAllowed, NotFound, Problem, ValidationFailed
from zones.facts import Policy
from zones.rules import may_escort_at_night
from zones.schema import (
    Alert,
    ContactForm,
    ContactFormEscort,
    ContactFormZone,
    Employee,
    Person,
    Presence,
    Visitor,
)
from zones.services._common import employee, normalise_card, record_change, utcnow
from zones.services.alerts import alerts_for, close_alert
from zones.services.visits import active_ban

UNESCORTED = "unescorted"


def may_escort_in(emp: Employee, zone: str | None, department: str | None) -> bool:
    """R10: escort authority comes from the zone's department or an explicit authorisation."""
    return bool(emp.active) and ((zone is not None and zone in emp.escort_zone_ids) or emp.department == department)


def alerts_concerning(
    session: Session, viewer: Employee, *, state: str | None = None, kind: str | None = None, limit: int = 500
) -> list[Alert]:
    """The alerts ``viewer`` is concerned by, newest first: those of ``alerts_for`` and the
    unescorted alerts of the zones they may escort in."""
    found = {a.id: a for a in alerts_for(session, viewer, state=state, kind=kind, limit=limit)}
    if kind in (None, UNESCORTED) and viewer.role != "admin":
        stmt = select(Alert).where(Alert.kind == UNESCORTED, _escorts_in(viewer))
        if state is not None:
            stmt = stmt.where(Alert.state == state)
        found.update((a.id, a) for a in session.scalars(stmt.order_by(Alert.id.desc()).limit(limit)))
    return sorted(found.values(), key=lambda a: (a.opened_at, a.id), reverse=True)[:limit]


AlertRow = tuple[Alert, Person | None, Person | None]  # the alert, its person, its escort


def with_people(session: Session, alerts: list[Alert]) -> list[AlertRow]:
    """Each alert with the person it is about and the escort it names, in one query."""
    ids = {i for a in alerts for i in (a.person_id, a.escort_id) if i is not None}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    return [
        (a, people.get(a.person_id) if a.person_id else None, people.get(a.escort_id) if a.escort_id else None)
        for a in alerts
    ]


def _escorts_in(viewer: Employee) -> ColumnElement[bool]:
    """Alerts of the zones ``viewer`` may escort in (their department's, or authorised)."""
    clauses: list[ColumnElement[bool]] = []
    if viewer.department:
        clauses.append(Alert.department == viewer.department)
    if viewer.escort_zone_ids:
        clauses.append(Alert.zone.in_(viewer.escort_zone_ids))
    return or_(*clauses) if clauses else false()


def concerned_alert(session: Session, viewer: Employee, alert_id: int) -> Alert:
    """The alert, if ``viewer`` is concerned by it; NotFound otherwise (an alert the caller
    may not see does not exist for them)."""
    alert = session.get(Alert, alert_id)
    if alert is None or not _concerns(session, viewer, alert):
        raise NotFound(Problem("no-such", what="alert", id=alert_id))
    return alert


def _concerns(session: Session, viewer: Employee, alert: Alert) -> bool:
    if alert.kind == UNESCORTED and may_escort_in(viewer, alert.zone, alert.department):
        return True
    # alerts_for says who is concerned, in one place; the alert's own state and kind keep
    # the list short (open alerts are few)
    same = alerts_for(session, viewer, state=alert.state, kind=alert.kind, limit=10_000)
    return any(a.id == alert.id for a in same)


def take_over(
    session: Session,
    alert_id: int,
    *,
    by: int,
    escort_id: int | None = None,
    escort_card: str | None = None,
    policy: Policy,
    now: datetime | None = None,
) -> Alert:
    """R10: another authorised escort takes the unescorted visitor of ``alert_id`` over.

    The new escort is ``escort_card``'s or ``escort_id``'s employee, else the caller ``by``.
    Naming someone else is a hand-over: the escort in charge, a safety officer of the zone's
    department or an admin may do it. The new escort may escort in the zone, is on duty, not
    banned (R17, in the site's calendar), under the policy's visitor limit and, at night,
    from the dispatch room (R14), as the gate would require. Commits."""
    now = now or utcnow()
    caller = employee(session, by)
    alert = concerned_alert(session, caller, alert_id)
    if alert.kind != UNESCORTED:
        raise Conflict(Problem("not-custody-alert"))
    if alert.state != "open":
        raise Conflict(Problem("alert-closed"))
    field = "escort_card" if escort_card else "escort_id"
    new = _new_escort(session, caller, escort_id, escort_card)
    if new.id != caller.id and not (
        caller.role == "admin"
        or caller.id == alert.escort_id
        or (caller.role == "safety_officer" and caller.department == alert.department)
    ):
        raise NotAllowed(Problem("hand-over", department=alert.department or "-"))
    _check_escort(session, new, alert, field, policy, now)
    assert alert.person_id is not None, "an unescorted alert names its visitor"
    visitor = alert.person_id
    presence = session.get(Presence, visitor)
    if presence is not None and presence.zone == alert.zone:
        presence.escort_id = new.id
        record_change(session, visitor, "presence", now)
    for form in _forms_now(session, visitor, alert.zone, now):
        if all(e.employee_id != new.id for e in form.escorts):
            form.escorts.append(
                ContactFormEscort(employee_id=new.id, substitute=True, added_by=caller.id, added_at=now)
            )
            record_change(session, visitor, "form", now)
    alert.detail = {**alert.detail, "taken_over_by": new.id}
    close_alert(session, alert, by=caller.id, note=f"taken over by {new.name}", at=now)
    session.commit()
    return alert


def _new_escort(session: Session, caller: Employee, escort_id: int | None, escort_card: str | None) -> Employee:
    if escort_card:
        card = normalise_card(escort_card, "escort_card")
        emp = session.scalars(select(Employee).where(Employee.card == card, Employee.active.is_(True))).first()
        if emp is None:
            raise ValidationFailed([("escort_card", Problem("no-employee-card", card=card))])
        return emp
    if escort_id is not None:
        try:
            return employee(session, escort_id, "escort")
        except NotFound as err:
            raise ValidationFailed([("escort_id", Problem("no-such-active", what="escort", id=escort_id))]) from err
    return caller


def _check_escort(session: Session, new: Employee, alert: Alert, field: str, policy: Policy, now: datetime) -> None:
    site_now = local(now, policy.timezone)
    today, max_visitors = site_now.date(), policy.escort_max_visitors
    problems: list[tuple[str, str]] = []
    if new.id == alert.escort_id:
        problems.append((field, Problem("same-escort", escort=new.name)))
    if not may_escort_in(new, alert.zone, alert.department):
        problems.append((field, Problem("may-not-escort", escort=new.name, zones=alert.zone or "-")))
    if not new.on_duty:
        problems.append((field, Problem("escort-off-duty", escort=new.name)))
    ban = active_ban(session, new.id, today)
    if ban is not None:
        problems.append((field, Problem("escort-banned", escort=new.name, date=ban.until.isoformat())))
    charge = session.scalar(
        select(func.count())
        .select_from(Presence)
        .join(Visitor, Visitor.id == Presence.person_id)
        .where(Presence.escort_id == new.id)
    )
    if (charge or 0) >= max_visitors:
        problems.append((field, Problem("escort-full", escort=new.name, count=charge, limit=max_visitors)))
    if policy.night.contains(site_now.time()) and not may_escort_at_night(new.dispatch_room, new.department, policy):
        problems.append((field, Problem("night-escort", night=policy.night, escort=new.name)))
    if problems:
        raise ValidationFailed(problems)


def _forms_now(session: Session, visitor: int, zone: str | None, now: datetime) -> list[ContactForm]:
    """The visitor's approved forms valid now for ``zone`` (R5), on which the new escort is
    recorded as a substitute (R10)."""
    return list(
        session.scalars(
            select(ContactForm)
            .join(ContactFormZone, ContactFormZone.form_id == ContactForm.id)
            .where(
                ContactForm.visitor_id == visitor,
                ContactForm.state == "approved",
                ContactForm.valid_from <= now,
                ContactForm.valid_until >= now,
                ContactFormZone.zone == zone,
            )
        )
    )
