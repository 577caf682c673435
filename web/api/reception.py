"""API: unscheduled arrivals (R21), complaints (R22) and their follow-up (R23), as
contract.md's "Additions" table says. Reception records; the routed or responsible
department and safety officers handle; guards read. Lists run the deadline sweep first, so
what they flag overdue has its alert open too."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import Field
from sqlalchemy.orm import Session

from web.api.fields import (
    LIST_MAX,
    SIGNATURE_MAX,
    Card,
    Day,
    Id,
    LongText,
    Moment,
    Name,
    OptionalName,
    RequiredText,
    Text,
)
from web.api.models import EducationOut, In, Out
from web.api.present import sees_identity
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from zones.calendar import local
from zones.idcard import mask
from zones.schema import Complaint, Incident
from zones.services import reception_complaints as complaints
from zones.services import reception_incidents as incidents
from zones.services import reception_overdue as registers

Category = Literal["A", "B", "C", "other"]


class IncidentPersonIn(In):
    name: Name
    organisation: OptionalName = ""
    id_number: Card | None = None


class IncidentIn(In):
    category: Category
    people: list[IncidentPersonIn] = Field(min_length=1, max_length=50)
    summary: LongText
    arrived_at: Moment


class IncidentCreatedOut(Out):
    id: int
    routed_to: str
    report_due: date


class ReportIn(In):
    handled_by: Id
    outcome: RequiredText
    text: LongText


class IncidentPersonOut(Out):
    name: str
    organisation: str
    person_id: int | None
    id_number_masked: str | None
    id_number: str | None  # the safety officer only (R20)


class IncidentOut(Out):
    id: int
    category: str
    summary: str
    arrived_at: datetime
    routed_to: str
    state: str
    report_due: date
    overdue: bool
    people: list[IncidentPersonOut]
    handled_by: int | None
    outcome: str | None
    text: str | None
    reported_at: datetime | None


class IncidentsQuery(In):
    state: Literal["open", "closed"] | None = None
    category: Category | None = None
    overdue: bool | None = None


class ComplaintIn(In):
    name: Name
    contact: OptionalName = ""
    channel: Literal["in-person", "phone", "letter"]
    subject: Name
    department: Name
    text: Text = ""
    related_to: Id | None = None


class ComplaintCreatedOut(Out):
    id: int
    answer_due: date


class AnswerIn(In):
    text: LongText
    promised_date: Day | None = None


class ClosedOut(Out):
    follow_up_due: datetime


class FollowUpIn(In):
    method: Literal["phone", "in-person"]
    satisfaction: int = Field(strict=True, ge=1, le=5)
    note: Text = ""
    signature: str | None = Field(None, max_length=SIGNATURE_MAX)


class ComplaintOut(Out):
    id: int
    name: str
    contact_masked: str
    contact: str | None  # the safety officer only (R20)
    channel: str
    subject: str
    department: str
    text: str
    registered_at: datetime
    answer_due: date
    promised_date: date | None
    state: str
    answer_text: str | None
    answered_at: datetime | None
    overdue: bool
    answered_late: bool
    closed_at: datetime | None
    follow_up_due: datetime | None
    followed_up: bool
    follow_up_overdue: bool
    related_to: int | None
    times_raised: int


class ComplaintsQuery(In):
    state: Literal["open", "answered", "closed"] | None = None
    overdue: bool | None = None
    department: Name | None = None


def _actor_id() -> int:
    actor = current_actor()
    assert actor is not None
    return actor.id


def _now_and_today() -> tuple[datetime, date]:
    now = datetime.now(UTC)
    return now, local(now, sitegate().policy.timezone).date()


def _incident_out(incident: Incident, today: date, clear: bool) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        category=incident.category,
        summary=incident.summary,
        arrived_at=incident.arrived_at,
        routed_to=incident.routed_to,
        state=incident.state,
        report_due=incident.report_due,
        overdue=incidents.is_overdue(incident, today),
        people=[
            IncidentPersonOut(
                name=p.name,
                organisation=p.organisation,
                person_id=p.person_id,
                id_number_masked=mask(p.id_number) if p.id_number else None,
                id_number=p.id_number if clear else None,
            )
            for p in incident.people
        ],
        handled_by=incident.handled_by,
        outcome=incident.outcome,
        text=incident.report_text,
        reported_at=incident.reported_at,
    )


@api_route("POST", "/incidents", permission="reception.write", body=IncidentIn, response=IncidentCreatedOut, status=201)
def record_incident(body: IncidentIn) -> IncidentCreatedOut:
    """Record an unscheduled arrival; it is routed at once to its category's department (R21)."""
    site = sitegate()
    incident = incidents.record_incident(
        db_session(),
        category=body.category,
        people=[incidents.PersonIn(p.name, p.organisation, p.id_number) for p in body.people],
        summary=body.summary,
        arrived_at=body.arrived_at,
        recorded_by=_actor_id(),
        settings=site.config.reception,
        timezone=site.policy.timezone,
    )
    return IncidentCreatedOut(id=incident.id, routed_to=incident.routed_to, report_due=incident.report_due)


@api_route(
    "POST", "/incidents/<int:incident_id>/report", permission="reception.handle", body=ReportIn, errors=(404, 409)
)
def file_incident_report(incident_id: int, body: ReportIn) -> dict[str, object]:
    """File the incident report (who handled it, outcome, text): the incident closes (R21)."""
    incidents.file_report(
        db_session(),
        incident_id,
        handled_by=body.handled_by,
        outcome=body.outcome,
        text=body.text,
        reported_by=_actor_id(),
    )
    return {}


class AdmitInspectorIn(In):
    visit_id: Id
    reason: RequiredText = Field(description="why the inspector enters without an appointment (R1)")
    topics: list[Name] = Field(max_length=LIST_MAX, description="every topic of GET /education/topics (R6)")
    signature: str = Field(max_length=SIGNATURE_MAX, description="PNG data URL of the signed notification card (R7)")
    zones: list[Card] = Field(min_length=1, max_length=LIST_MAX, description="the zones whose hazards were told (R9)")


@api_route(
    "POST",
    "/incidents/<int:incident_id>/admit-inspector",
    permission="education.write",
    body=AdmitInspectorIn,
    response=EducationOut,
    status=201,
    errors=(404, 409),
)
def admit_inspector(incident_id: int, body: AdmitInspectorIn) -> EducationOut:
    """A category C inspector (R21) enters on a walk-in exception (R1) with the safety &
    environment department's verbal briefing (R6) and a signed notification card naming the
    zones (R7, R9), given by the caller, an officer of that department; both or neither."""
    site = sitegate()
    education = incidents.admit_inspector(
        db_session(),
        incident_id,
        visit_id=body.visit_id,
        officer_id=_actor_id(),
        reason=body.reason,
        topics=body.topics,
        signature=body.signature,
        zones=body.zones,
        known_zones=site.zones,
        policy=site.policy,
    )
    return EducationOut.model_validate(education)


@api_route("GET", "/incidents", permission="reception.read", query=IncidentsQuery, response=IncidentOut, many=True)
def list_incidents(query: IncidentsQuery) -> list[IncidentOut]:
    """Incidents newest first, by state, category and overdue (report past its due day)."""
    session = db_session()
    now, today = _now_and_today()
    registers.sweep_overdue(session, now, sitegate().policy.timezone)
    rows = registers.incidents(session, today, state=query.state, category=query.category, overdue=query.overdue)
    clear = sees_identity()
    return [_incident_out(i, today, clear) for i in rows]


@api_route(
    "POST", "/complaints", permission="reception.write", body=ComplaintIn, response=ComplaintCreatedOut, status=201
)
def register_complaint(body: ComplaintIn) -> ComplaintCreatedOut:
    """Register a complaint or suggestion; ``related_to`` links the same matter raised again (R22)."""
    site = sitegate()
    complaint = complaints.register_complaint(
        db_session(),
        name=body.name,
        contact=body.contact,
        channel=body.channel,
        subject=body.subject,
        department=body.department,
        text=body.text,
        related_to=body.related_to,
        registered_by=_actor_id(),
        settings=site.config.reception,
        timezone=site.policy.timezone,
    )
    return ComplaintCreatedOut(id=complaint.id, answer_due=complaint.answer_due)


@api_route(
    "POST",
    "/complaints/<int:complaint_id>/answer",
    permission="reception.handle",
    body=AnswerIn,
    errors=(404, 409),
)
def answer_complaint(complaint_id: int, body: AnswerIn) -> dict[str, object]:
    """Answer; with ``promised_date`` the answer is not final and that date is the new deadline (R22)."""
    complaints.answer_complaint(
        db_session(),
        complaint_id,
        text=body.text,
        promised_date=body.promised_date,
        answered_by=_actor_id(),
        timezone=sitegate().policy.timezone,
    )
    return {}


@api_route(
    "POST", "/complaints/<int:complaint_id>/close", permission="reception.handle", response=ClosedOut, errors=(404, 409)
)
def close_complaint(complaint_id: int) -> ClosedOut:
    """Close an answered complaint; the follow-up is due ``follow_up_hours`` later (R23)."""
    complaint = complaints.close_complaint(
        db_session(), complaint_id, closed_by=_actor_id(), settings=sitegate().config.reception
    )
    assert complaint.follow_up_due is not None
    return ClosedOut(follow_up_due=complaint.follow_up_due)


@api_route(
    "POST",
    "/complaints/<int:complaint_id>/follow-up",
    permission="reception.handle",
    body=FollowUpIn,
    errors=(404, 409),
)
def follow_up(complaint_id: int, body: FollowUpIn) -> dict[str, object]:
    """Record the follow-up: method, satisfaction 1-5, note; in person with the signature (R23)."""
    complaints.record_follow_up(
        db_session(),
        complaint_id,
        method=body.method,
        satisfaction=body.satisfaction,
        note=body.note,
        signature=body.signature,
        by=_actor_id(),
    )
    return {}


def complaint_out(
    session: Session, c: Complaint, today: date, now: datetime, followed: bool, clear: bool
) -> ComplaintOut:
    timezone = sitegate().policy.timezone
    return ComplaintOut(
        id=c.id,
        name=c.name,
        contact_masked=mask(c.contact),
        contact=c.contact if clear else None,
        channel=c.channel,
        subject=c.subject,
        department=c.department,
        text=c.text,
        registered_at=c.registered_at,
        answer_due=c.answer_due,
        promised_date=c.promised_date,
        state=c.state,
        answer_text=c.answer_text,
        answered_at=c.answered_at,
        overdue=complaints.is_overdue(c, today),
        answered_late=complaints.answered_late(c, timezone),
        closed_at=c.closed_at,
        follow_up_due=c.follow_up_due,
        followed_up=followed,
        follow_up_overdue=complaints.follow_up_overdue(c, followed, now),
        related_to=c.related_to,
        times_raised=complaints.times_raised(session, c),
    )


@api_route("GET", "/complaints", permission="reception.read", query=ComplaintsQuery, response=ComplaintOut, many=True)
def list_complaints(query: ComplaintsQuery) -> list[ComplaintOut]:
    """Complaints newest first, by state, department and overdue (no final answer past the deadline)."""
    session = db_session()
    now, today = _now_and_today()
    registers.sweep_overdue(session, now, sitegate().policy.timezone)
    rows = registers.complaint_list(
        session, today, state=query.state, department=query.department, overdue=query.overdue
    )
    followed = registers.followed_up_ids(session, [c.id for c in rows])
    clear = sees_identity()
    return [complaint_out(session, c, today, now, c.id in followed, clear) for c in rows]
