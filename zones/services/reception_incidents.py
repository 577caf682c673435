"""Unscheduled arrivals (R21): reception records an incident, it is routed at once to the
department of its category and alerts its members; the report filed by that department (or
a safety officer) closes it. A and B people linked to a registered visitor are held at the
gates while the incident is open (the snapshot reads the open incidents; the change sequence
tells the controllers). A B person can be banned in one step (R17); a C inspector can be
given a walk-in exception (R1) with the safety department's verbal briefing (R6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.config import ReceptionSection
from zones.errors import Conflict, NotAllowed, Problem, ValidationFailed
from zones.facts import Policy, Zone
from zones.schema import Breach, Education, Employee, Incident, IncidentPerson, Visit, Visitor
from zones.services._common import aware, employee, get_or_404, record_change, utcnow
from zones.services.alerts import close_alert, open_alert, open_alerts
from zones.services.breaches import record_breach
from zones.services.education import record_education
from zones.services.people import normalise_id_number
from zones.services.visits import grant_walk_in

CATEGORIES = ("A", "B", "C", "other")
HELD_CATEGORIES = ("A", "B")  # R21: nobody of these enters a production zone meanwhile


@dataclass(frozen=True)
class PersonIn:
    """Someone involved, as reception writes them down."""

    name: str
    organisation: str = ""
    id_number: str | None = None


def incident_alert_key(incident_id: int) -> str:
    return f"incident:{incident_id}"


def may_handle(emp: Employee, department: str) -> bool:
    """The routed (or responsible) department's members and every safety officer handle
    (R21-R23); an admin may do everything."""
    return emp.role in ("admin", "safety_officer") or emp.department == department


def require_handler(emp: Employee, department: str) -> None:
    if not may_handle(emp, department):
        raise NotAllowed(Problem("not-routed", department=department))


def record_incident(
    session: Session,
    *,
    category: str,
    people: Sequence[PersonIn],
    summary: str,
    arrived_at: datetime,
    recorded_by: int,
    settings: ReceptionSection,
    timezone: str,
    now: datetime | None = None,
) -> Incident:
    """Record an unscheduled arrival and route it (R21): ``routed_to`` from the category,
    ``report_due`` the ``incident_report_working_days``-th working day after the arrival's
    site-local day. Opens an "incident" alert for the routed department's members."""
    problems: list[tuple[str, str]] = []
    if category not in CATEGORIES:
        problems.append(("category", Problem("one-of", choices=", ".join(CATEGORIES))))
    if not summary.strip():
        problems.append(("summary", Problem("empty")))
    if not people:
        problems.append(("people", Problem("empty")))
    problems += [(f"people.{i}.name", Problem("empty")) for i, p in enumerate(people) if not p.name.strip()]
    if problems:
        raise ValidationFailed(problems)
    arrived_at = aware(arrived_at, "arrived_at")
    recorder = employee(session, recorded_by, "recorder")
    now = now or utcnow()
    incident = Incident(
        category=category,
        summary=summary.strip(),
        arrived_at=arrived_at,
        recorded_by=recorder.id,
        recorded_at=now,
        routed_to=getattr(settings.routing, category),
        state="open",
        report_due=settings.calendar().add_working_days(
            local(arrived_at, timezone).date(), settings.incident_report_working_days
        ),
    )
    for p in people:
        number = normalise_id_number(p.id_number) if p.id_number else None
        visitor_id = session.scalars(select(Visitor.id).where(Visitor.id_number == number)).first() if number else None
        incident.people.append(
            IncidentPerson(
                name=p.name.strip(), organisation=p.organisation.strip(), id_number=number, person_id=visitor_id
            )
        )
    session.add(incident)
    session.flush()
    open_alert(
        session,
        key=incident_alert_key(incident.id),
        kind="incident",
        at=now,
        department=incident.routed_to,
        audience="members",
        subject_id=incident.id,
        detail={"category": category, "summary": incident.summary, "report_due": incident.report_due.isoformat()},
    )
    _tell_gates(session, incident)
    session.commit()
    return incident


def file_report(
    session: Session,
    incident_id: int,
    *,
    handled_by: int,
    outcome: str,
    text: str,
    reported_by: int,
    now: datetime | None = None,
) -> Incident:
    """File the incident report (R21: what happened, who handled it, the outcome): the
    incident closes, with its alerts, and its A/B people may enter again."""
    incident = get_or_404(session, Incident, incident_id, "incident")
    problems: list[tuple[str, str]] = [
        (f, Problem("empty")) for f, v in (("outcome", outcome), ("text", text)) if not v.strip()
    ]
    if problems:
        raise ValidationFailed(problems)
    reporter = employee(session, reported_by, "reporter")
    require_handler(reporter, incident.routed_to)
    handler = employee(session, handled_by, "handled_by")
    if incident.state == "closed":
        raise Conflict(Problem("incident-closed"), [f"incident {incident.id}"])
    now = now or utcnow()
    incident.state = "closed"
    incident.handled_by = handler.id
    incident.outcome = outcome.strip()
    incident.report_text = text.strip()
    incident.reported_at = now
    for kind in ("incident", "incident-report-overdue"):
        for alert in open_alerts(session, kind=kind, subject_id=incident.id):
            close_alert(session, alert, by=reporter.id, note="report filed", at=now)
    _tell_gates(session, incident)
    session.commit()
    return incident


def is_overdue(incident: Incident, today: date) -> bool:
    """Not reported and past its due day (site-local ``today``)."""
    return incident.state == "open" and today > incident.report_due


def _tell_gates(session: Session, incident: Incident) -> None:
    # the snapshot's R21 hold follows the incident; controllers rebuild the people named
    if incident.category in HELD_CATEGORIES:
        for person_id in {p.person_id for p in incident.people if p.person_id is not None}:
            record_change(session, person_id, "incident")


def _linked_person(incident: Incident, person_id: int) -> IncidentPerson:
    for p in incident.people:
        if p.person_id == person_id:
            return p
    raise ValidationFailed([("person_id", Problem("not-incident-person", person=person_id))])


def ban_from_incident(
    session: Session, incident_id: int, person_id: int, *, days: int, seen_by: int, now: datetime | None = None
) -> Breach:
    """R17 in one step for a person of a B incident: a ban breach citing the incident."""
    incident = get_or_404(session, Incident, incident_id, "incident")
    if incident.category != "B":
        raise ValidationFailed([("incident", Problem("ban-category"))])
    _linked_person(incident, person_id)
    return record_breach(
        session,
        person_id=person_id,
        rule="R17",
        severity="ban",
        seen_by=seen_by,
        note=f"incident {incident.id} (R21 B): {incident.summary}",
        days=days,
        now=now,
    )


def admit_inspector(
    session: Session,
    incident_id: int,
    *,
    visit_id: int,
    officer_id: int,
    reason: str,
    topics: list[str],
    signature: str,
    zones: list[str],
    known_zones: dict[str, Zone],
    policy: Policy,
    now: datetime | None = None,
) -> Education:
    """A C inspector's walk-in exception (R1) together with the safety department's verbal
    briefing (R6) and the inspector's signed notification card naming ``zones`` (R7, R9),
    recorded by the safety & environment department's officer who gives both. One commit:
    a briefing refused (a topic missing, no signature, ...) grants no walk-in either."""
    incident = get_or_404(session, Incident, incident_id, "incident")
    if incident.category != "C":
        raise ValidationFailed([("incident", Problem("walk-in-category"))])
    visit = get_or_404(session, Visit, visit_id, "visit")
    _linked_person(incident, visit.visitor_id)
    grant_walk_in(session, visit_id, officer_id, reason)
    return record_education(
        session,
        visitor_id=visit.visitor_id,
        department=policy.safety_department,
        method="verbal",
        topics=topics,
        delivered_at=now or utcnow(),
        educator_id=officer_id,
        signature=signature,
        zones=zones,
        known_zones=known_zones,
        valid_months=policy.education_valid_months,
        retention_months=policy.notification_retention_months,
        safety_department=policy.safety_department,
        dispatch_department=policy.dispatch_department,
        timezone=policy.timezone,
        now=now,
    )  # commits the walk-in with the briefing
