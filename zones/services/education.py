"""Safety education (R6), its education card valid for N calendar months (R8), the signed
notification card kept for its retention period and then purged (R7, R9)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zones.calendar import add_months, local
from zones.errors import NotAllowed, Problem, ValidationFailed
from zones.schema import EDUCATION_METHODS, Education, NotificationCard, Visitor
from zones.services._common import aware, employee, get_or_404, record_change


def record_education(
    session: Session,
    *,
    visitor_id: int,
    department: str,
    method: str,
    topics: list[str],
    delivered_at: datetime,
    educator_id: int,
    notification_signed: bool,
    signature: str | None = None,
    valid_months: int = 3,
    retention_months: int = 6,
    timezone: str = "Asia/Shanghai",
) -> Education:
    """Record education given to a visitor. Returns the Education row; its ``valid_until``
    is the site-local delivery date plus ``valid_months`` calendar months, clamped to the
    month's end, inclusive (R8). A signed notification card is stored with ``retain_until``
    = delivery date + ``retention_months`` (R7). The educator must be a safety officer or a
    dispatch-room employee (R6: at night the dispatch room gives it)."""
    get_or_404(session, Visitor, visitor_id, "visitor")
    problems: list[tuple[str, str]] = []
    if method not in EDUCATION_METHODS:
        problems.append(("method", Problem("one-of", choices=", ".join(EDUCATION_METHODS))))
    if not department.strip():
        problems.append(("department", Problem("empty")))
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        problems.append(("topics", Problem("string-list")))
    if signature is not None and not signature.startswith("data:image/"):
        problems.append(("signature", Problem("image-url")))
    if signature is not None and not notification_signed:
        problems.append(("signature", Problem("signature-unsigned")))
    if problems:
        raise ValidationFailed(problems)
    delivered_at = aware(delivered_at, "delivered_at")
    educator = employee(session, educator_id, "educator")
    if educator.role not in ("safety_officer", "admin") and not educator.dispatch_room:
        raise NotAllowed(Problem("educator-role", role=educator.role))
    delivered_on = local(delivered_at, timezone).date()
    edu = Education(
        visitor_id=visitor_id,
        department=department.strip(),
        method=method,
        topics=list(topics),
        delivered_at=delivered_at,
        delivered_on=delivered_on,
        educator_id=educator.id,
        valid_until=add_months(delivered_on, valid_months),
        notification_signed=notification_signed,
    )
    session.add(edu)
    session.flush()
    if notification_signed:
        session.add(
            NotificationCard(
                education_id=edu.id,
                signature=signature,
                signed_at=delivered_at,
                retain_until=add_months(delivered_on, retention_months),
            )
        )
    record_change(session, visitor_id, "education")
    session.commit()
    return edu


def notification_card(session: Session, education_id: int) -> NotificationCard | None:
    return session.scalar(select(NotificationCard).where(NotificationCard.education_id == education_id))


def purge_notification_cards(session: Session, now: datetime) -> int:
    """R7: delete notification cards whose retention ended before ``now``'s date; returns
    how many. (The database refuses to delete a card still within retention.)"""
    result = session.execute(delete(NotificationCard).where(NotificationCard.retain_until < now.date()))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
