"""The reception's part of the monthly statistics (R19, R21-R23): incidents by category,
complaints registered (and how many were the same matter raised again), answer times in
working days, and the follow-up rate of the complaints closed in the month (target 100 %).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.schema import Complaint, FollowUp, Incident
from zones.workdays import WorkCalendar


def reception_stats(
    session: Session, start: datetime, end: datetime, calendar: WorkCalendar, timezone: str
) -> dict[str, Any]:
    """The month ``start`` .. ``end`` (exclusive, aware): keys ``incidents``, ``complaints``,
    ``answer_times`` and ``follow_up``, merged into zones.services.reports.monthly_stats."""
    by_category = dict(
        session.execute(
            select(Incident.category, func.count())
            .where(Incident.arrived_at >= start, Incident.arrived_at < end)
            .group_by(Incident.category)
        ).all()
    )
    registered = list(
        session.scalars(select(Complaint).where(Complaint.registered_at >= start, Complaint.registered_at < end))
    )
    answered = list(
        session.scalars(
            select(Complaint).where(
                Complaint.state != "open", Complaint.answered_at >= start, Complaint.answered_at < end
            )
        )
    )
    days: Counter[int] = Counter()
    late = 0
    for c in answered:
        assert c.answered_at is not None
        day = local(c.answered_at, timezone).date()
        days[calendar.working_days_between(local(c.registered_at, timezone).date(), day)] += 1
        late += day > (c.promised_date or c.answer_due)
    closed_ids = list(
        session.scalars(select(Complaint.id).where(Complaint.closed_at >= start, Complaint.closed_at < end))
    )
    followed = (
        int(session.scalar(select(func.count()).where(FollowUp.complaint_id.in_(closed_ids))) or 0) if closed_ids else 0
    )
    answers = sum(days.values())
    return {
        "incidents": {"total": sum(by_category.values()), "by_category": {k: int(v) for k, v in by_category.items()}},
        "complaints": {
            "total": len(registered),
            "raised_again": sum(1 for c in registered if c.related_to is not None),
            "by_channel": dict(Counter(c.channel for c in registered)),
        },
        "answer_times": {
            "answered": answers,
            "late": late,
            "average_working_days": round(sum(d * n for d, n in days.items()) / answers, 2) if answers else None,
            "by_working_days": {str(d): n for d, n in sorted(days.items())},
        },
        "follow_up": {
            "closed": len(closed_ids),
            "followed_up": followed,
            "rate": round(followed / len(closed_ids), 4) if closed_ids else None,
        },
    }
