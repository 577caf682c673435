"""The reception's registers as lists with filters, and the deadline sweep (R21-R23).

``sweep_overdue`` opens one alert per missed deadline, for the department responsible:
"incident-report-overdue" (R21), "complaint-overdue" (R22, keyed by the deadline, so a
missed promised date alerts again) and "follow-up-overdue" (R23). Keys make it idempotent:
the web's lists and dashboard and the housekeeping thread all call it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.schema import Complaint, FollowUp, Incident
from zones.services import reception_complaints as complaints
from zones.services.alerts import open_alert


def incidents(
    session: Session,
    today: date,
    *,
    state: str | None = None,
    category: str | None = None,
    overdue: bool | None = None,
) -> list[Incident]:
    """Incidents newest first; ``overdue`` against the site-local ``today``."""
    stmt = select(Incident)
    if state is not None:
        stmt = stmt.where(Incident.state == state)
    if category is not None:
        stmt = stmt.where(Incident.category == category)
    if overdue is not None:
        late = (Incident.state == "open") & (Incident.report_due < today)
        stmt = stmt.where(late if overdue else ~late)
    return list(session.scalars(stmt.order_by(Incident.arrived_at.desc(), Incident.id.desc())))


def complaint_list(
    session: Session,
    today: date,
    *,
    state: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
) -> list[Complaint]:
    """Complaints newest first; ``overdue``: still without the final answer past the deadline."""
    stmt = select(Complaint)
    if state is not None:
        stmt = stmt.where(Complaint.state == state)
    if department is not None:
        stmt = stmt.where(Complaint.department == department)
    rows = list(session.scalars(stmt.order_by(Complaint.registered_at.desc(), Complaint.id.desc())))
    if overdue is not None:
        rows = [c for c in rows if complaints.is_overdue(c, today) == overdue]
    return rows


def followed_up_ids(session: Session, complaint_ids: list[int]) -> set[int]:
    return set(session.scalars(select(FollowUp.complaint_id).where(FollowUp.complaint_id.in_(complaint_ids))))


def sweep_overdue(session: Session, now: datetime, timezone: str) -> int:
    """Open the alerts of every missed deadline at ``now``; returns how many are open for
    missed deadlines now (opened earlier or just now). Commits."""
    today = local(now, timezone).date()
    count = 0
    for incident in incidents(session, today, overdue=True):
        open_alert(
            session,
            key=f"incident-report-overdue:{incident.id}",
            kind="incident-report-overdue",
            at=now,
            department=incident.routed_to,
            subject_id=incident.id,
            detail={"category": incident.category, "report_due": incident.report_due.isoformat()},
        )
        count += 1
    for complaint in complaint_list(session, today, state="open", overdue=True):
        deadline = complaints.answer_deadline(complaint)
        open_alert(
            session,
            key=f"complaint-overdue:{complaint.id}:{deadline.isoformat()}",
            kind="complaint-overdue",
            at=now,
            department=complaint.department,
            subject_id=complaint.id,
            detail={"subject": complaint.subject, "due": deadline.isoformat()},
        )
        count += 1
    closed = list(
        session.scalars(
            select(Complaint).where(
                Complaint.state == "closed", Complaint.follow_up_due.is_not(None), Complaint.follow_up_due < now
            )
        )
    )
    done = followed_up_ids(session, [c.id for c in closed])
    for complaint in closed:
        if complaint.id in done:
            continue
        assert complaint.follow_up_due is not None
        open_alert(
            session,
            key=f"follow-up-overdue:{complaint.id}",
            kind="follow-up-overdue",
            at=now,
            department=complaint.department,
            subject_id=complaint.id,
            detail={"subject": complaint.subject, "due": complaint.follow_up_due.isoformat()},
        )
        count += 1
    session.commit()
    return count
