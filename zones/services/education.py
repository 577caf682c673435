"""Safety education (R6) that cannot be forged: the educator belongs to the department
recorded, the date is neither in the future nor older than the recording delay, every
topic of the fixed list is covered, and the visitor's signature is kept on the notification
card (R7) naming the zones whose hazards were told (R9). The education card is valid for N
calendar months (R8); the card is purged after its retention period (R7)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from zones.calendar import add_months, local
from zones.errors import N_, NotAllowed, Problem, ValidationFailed
from zones.facts import Zone
from zones.schema import EDUCATION_METHODS, Education, NotificationCard, Visitor
from zones.services._common import aware, employee, get_or_404, record_change, utcnow

# R6 (and R13, told at education): every record covers all of them. Codes are stored,
# the labels shown (translated by the pages).
EDUCATION_TOPICS: dict[str, str] = {
    "hazards": N_("The zone's major hazards and the rules to obey"),
    "products": N_("What the department produces"),
    "fire-explosion-poisoning": N_("Fire, explosion and poisoning"),
    "emergency-rescue": N_("Emergency rescue"),
    "walking-route": N_("The visitor's walking route"),
    "evacuation-route": N_("The evacuation route"),
    "prohibitions": N_("The seven prohibitions (R13)"),
}

# a hand-drawn signature is ~20 kB as PNG; anything far larger is not a signature
MAX_SIGNATURE_BYTES = 200_000
_PNG_URL = "data:image/png;base64,"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _signature_problem(signature: str | None) -> Problem | None:
    """Why ``signature`` is not a PNG data URL of a sensible size, or None when it is."""
    if not signature:
        return Problem("signature-required")
    if len(signature) > MAX_SIGNATURE_BYTES * 4 // 3 + len(_PNG_URL) + 4:
        return Problem("signature-too-large", kb=MAX_SIGNATURE_BYTES // 1000)
    if not signature.startswith(_PNG_URL):
        return Problem("image-url")
    try:
        png = base64.b64decode(signature[len(_PNG_URL) :], validate=True)
    except (binascii.Error, ValueError):
        return Problem("image-url")
    return None if png.startswith(_PNG_MAGIC) else Problem("image-url")


def _topic_problems(topics: object) -> list[tuple[str, str]]:
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        return [("topics", Problem("string-list"))]
    unknown = [t for t in topics if t not in EDUCATION_TOPICS]
    if unknown:
        return [("topics", Problem("unknown-choice", given=", ".join(unknown), choices=", ".join(EDUCATION_TOPICS)))]
    missing = [t for t in EDUCATION_TOPICS if t not in topics]
    return [("topics", Problem("missing-topics", topics=", ".join(missing)))] if missing else []


def record_education(
    session: Session,
    *,
    visitor_id: int,
    department: str,
    method: str,
    topics: list[str],
    delivered_at: datetime,
    educator_id: int,
    signature: str | None,
    zones: Iterable[str],
    known_zones: dict[str, Zone],
    notification_signed: bool | None = None,
    valid_months: int = 3,
    retention_months: int = 6,
    record_delay_days: int = 7,
    safety_department: str = "safety",
    dispatch_department: str = "dispatch",
    timezone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Education:
    """Record education given to a visitor (R6) with the signed notification card (R7).

    Refused (ValidationFailed naming the field): a date after ``now`` or more than
    ``record_delay_days`` site-local days before it, a topic missing or not in
    EDUCATION_TOPICS, no PNG signature, ``zones`` empty or outside the department (the
    safety and dispatch departments educate for every zone), an educator who does not belong
    to ``department``. ``notification_signed`` is derived from the signature; a value sent
    is ignored. The education card is valid through the site-local delivery date plus
    ``valid_months`` calendar months (R8); the notification card is kept ``retention_months``.
    """
    get_or_404(session, Visitor, visitor_id, "visitor")
    del notification_signed  # derived: the signature is the proof (R7)
    department = department.strip()
    zone_ids = sorted(set(zones))
    problems: list[tuple[str, str]] = []
    if method not in EDUCATION_METHODS:
        problems.append(("method", Problem("one-of", choices=", ".join(EDUCATION_METHODS))))
    if not department:
        problems.append(("department", Problem("empty")))
    problems += _topic_problems(topics)
    signature_problem = _signature_problem(signature)
    if signature_problem is not None:
        problems.append(("signature", signature_problem))
    delivered_at = aware(delivered_at, "delivered_at")
    now = now or utcnow()
    delivered_on = local(delivered_at, timezone).date()
    if delivered_at > now:
        problems.append(("delivered_at", Problem("in-future")))
    elif (local(now, timezone).date() - delivered_on).days > record_delay_days:
        problems.append(("delivered_at", Problem("too-old", days=record_delay_days)))
    if not zone_ids:
        problems.append(("zones", Problem("no-zones")))
    problems += [("zones", Problem("unknown-zone", zone=z)) for z in zone_ids if z not in known_zones]
    everywhere = department in (safety_department, dispatch_department)
    foreign = [z for z in zone_ids if z in known_zones and known_zones[z].department != department]
    if foreign and not everywhere:
        problems.append(("zones", Problem("zone-not-department", zones=", ".join(foreign), department=department)))
    educator = employee(session, educator_id, "educator")
    if educator.role not in ("safety_officer", "admin") and not educator.dispatch_room:
        raise NotAllowed(Problem("educator-role", role=educator.role))
    if department and educator.department != department:
        problems.append(
            ("educator", Problem("educator-department", actual=educator.department or "-", department=department))
        )
    if problems:
        raise ValidationFailed(problems)
    edu = Education(
        visitor_id=visitor_id,
        department=department,
        method=method,
        topics=list(topics),
        delivered_at=delivered_at,
        delivered_on=delivered_on,
        educator_id=educator.id,
        valid_until=add_months(delivered_on, valid_months),
        notification_signed=True,
        zones=zone_ids,
    )
    session.add(edu)
    session.flush()
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
