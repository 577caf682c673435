"""Complaints and suggestions (R22) and their follow-up (R23).

Reception registers a complaint with the department responsible; the answer is due on the
``complaint_answer_working_days``-th working day after the site-local day it was registered.
An answer that cannot be final yet records the promised date: the complaint stays open and
its deadline becomes that date (R22: "the promised date is recorded and told"), so it is
flagged when the promised date passes without the final answer. A final answer given after
the deadline in force at the time is recorded as late (``answered_late``) for good.
Closing sets the follow-up due time (``follow_up_hours``); a follow-up in person needs the
person's signature. The same matter raised again links to its first complaint.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.config import ReceptionSection
from zones.errors import Conflict, Problem, ValidationFailed
from zones.schema import Complaint, FollowUp
from zones.services._common import employee, get_or_404, utcnow
from zones.services.alerts import close_alert, open_alerts
from zones.services.reception_incidents import require_handler

CHANNELS = ("in-person", "phone", "letter")
FOLLOW_UP_METHODS = ("phone", "in-person")


def answer_deadline(complaint: Complaint) -> date:
    """The day the (final) answer is due: the promised date once one was told, else the due date."""
    return complaint.promised_date or complaint.answer_due


def is_overdue(complaint: Complaint, today: date) -> bool:
    """Still without its final answer after its deadline (site-local ``today``)."""
    return complaint.state == "open" and today > answer_deadline(complaint)


def answered_late(complaint: Complaint, timezone: str) -> bool:
    """The final answer came after the deadline in force."""
    if complaint.state == "open" or complaint.answered_at is None:
        return False
    return local(complaint.answered_at, timezone).date() > answer_deadline(complaint)


def follow_up_overdue(complaint: Complaint, followed_up: bool, now: datetime) -> bool:
    return (
        complaint.state == "closed"
        and not followed_up
        and complaint.follow_up_due is not None
        and now > complaint.follow_up_due
    )


def root_of(session: Session, complaint_id: int) -> Complaint:
    """The first complaint of a matter (links always point at the first)."""
    first = session.get(Complaint, complaint_id)
    if first is None:
        raise ValidationFailed([("related_to", Problem("no-such-complaint", id=complaint_id))])
    if first.related_to is not None:
        return get_or_404(session, Complaint, first.related_to, "complaint")
    return first


def times_raised(session: Session, complaint: Complaint) -> int:
    """How often the matter was raised: the first complaint and every one linked to it."""
    first_id = complaint.related_to or complaint.id
    linked = session.scalar(select(func.count()).where(Complaint.related_to == first_id)) or 0
    return 1 + int(linked)


def register_complaint(
    session: Session,
    *,
    name: str,
    contact: str,
    channel: str,
    subject: str,
    department: str,
    text: str,
    registered_by: int,
    settings: ReceptionSection,
    timezone: str,
    related_to: int | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Register a complaint or suggestion (R22); ``related_to`` links the same matter raised
    again (to any department) to its first complaint."""
    problems: list[tuple[str, str]] = [
        (f, Problem("empty"))
        for f, v in (("name", name), ("subject", subject), ("department", department))
        if not v.strip()
    ]
    if channel not in CHANNELS:
        problems.append(("channel", Problem("one-of", choices=", ".join(CHANNELS))))
    if problems:
        raise ValidationFailed(problems)
    first = root_of(session, related_to) if related_to is not None else None
    registrar = employee(session, registered_by, "registered_by")
    now = now or utcnow()
    complaint = Complaint(
        name=name.strip(),
        contact=contact.strip(),
        channel=channel,
        subject=subject.strip(),
        department=department.strip(),
        text=text.strip(),
        registered_by=registrar.id,
        registered_at=now,
        answer_due=settings.calendar().add_working_days(
            local(now, timezone).date(), settings.complaint_answer_working_days
        ),
        state="open",
        related_to=first.id if first else None,
    )
    session.add(complaint)
    session.commit()
    return complaint


def answer_complaint(
    session: Session,
    complaint_id: int,
    *,
    text: str,
    answered_by: int,
    timezone: str,
    promised_date: date | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Record the answer. With ``promised_date`` it is not final: the complaint stays open and
    is due on that date; without, it is answered. Either closes its overdue alert."""
    complaint = get_or_404(session, Complaint, complaint_id, "complaint")
    if not text.strip():
        raise ValidationFailed([("text", Problem("empty"))])
    responder = employee(session, answered_by, "answered_by")
    require_handler(responder, complaint.department)
    if complaint.state != "open":
        raise Conflict(Problem("complaint-state", state=complaint.state), [f"complaint {complaint.id}"])
    now = now or utcnow()
    if promised_date is not None and promised_date < local(now, timezone).date():
        raise ValidationFailed([("promised_date", Problem("promised-date"))])
    complaint.answer_text = text.strip()
    complaint.answered_by = responder.id
    complaint.answered_at = now
    if promised_date is not None:
        complaint.promised_date = promised_date
    else:
        complaint.state = "answered"
    for alert in open_alerts(session, kind="complaint-overdue", subject_id=complaint.id):
        close_alert(session, alert, by=responder.id, note="answered", at=now)
    session.commit()
    return complaint


def close_complaint(
    session: Session, complaint_id: int, *, closed_by: int, settings: ReceptionSection, now: datetime | None = None
) -> Complaint:
    """Close an answered complaint; the follow-up is due ``follow_up_hours`` later (R23)."""
    complaint = get_or_404(session, Complaint, complaint_id, "complaint")
    require_handler(employee(session, closed_by, "closed_by"), complaint.department)
    if complaint.state != "answered":
        raise Conflict(Problem("complaint-state", state=complaint.state), [f"complaint {complaint.id}"])
    now = now or utcnow()
    complaint.state = "closed"
    complaint.closed_at = now
    complaint.follow_up_due = now + timedelta(hours=settings.follow_up_hours)
    session.commit()
    return complaint


def follow_up_of(session: Session, complaint_id: int) -> FollowUp | None:
    return session.scalars(select(FollowUp).where(FollowUp.complaint_id == complaint_id)).first()


def record_follow_up(
    session: Session,
    complaint_id: int,
    *,
    method: str,
    satisfaction: int,
    note: str,
    by: int,
    signature: str | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """Record the follow-up of a closed complaint (R23); in person it needs the person's
    signature (a PNG data URL from the signature pad)."""
    complaint = get_or_404(session, Complaint, complaint_id, "complaint")
    problems: list[tuple[str, str]] = []
    if method not in FOLLOW_UP_METHODS:
        problems.append(("method", Problem("one-of", choices=", ".join(FOLLOW_UP_METHODS))))
    if not 1 <= satisfaction <= 5:
        problems.append(("satisfaction", Problem("one-of", choices="1, 2, 3, 4, 5")))
    if method == "in-person" and not signature:
        problems.append(("signature", Problem("signature-in-person")))
    if signature and not signature.startswith("data:image/"):
        problems.append(("signature", Problem("image-url")))
    if problems:
        raise ValidationFailed(problems)
    follower = employee(session, by, "by")
    require_handler(follower, complaint.department)
    if complaint.state != "closed":
        raise Conflict(Problem("complaint-state", state=complaint.state), [f"complaint {complaint.id}"])
    if follow_up_of(session, complaint.id) is not None:
        raise Conflict(Problem("followed-up"), [f"complaint {complaint.id}"])
    now = now or utcnow()
    follow_up = FollowUp(
        complaint_id=complaint.id,
        method=method,
        satisfaction=satisfaction,
        note=note.strip(),
        signature=signature if method == "in-person" else None,
        by=follower.id,
        at=now,
    )
    session.add(follow_up)
    for alert in open_alerts(session, kind="follow-up-overdue", subject_id=complaint.id):
        close_alert(session, alert, by=follower.id, note="followed up", at=now)
    session.commit()
    return follow_up
