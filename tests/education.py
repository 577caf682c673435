"""Education as the tests record it: every R6 topic, a signature (R7) and the zones told
(R9), recorded on the day it was given unless ``now`` says otherwise, so a test can date
education months back without tripping the recording delay (R6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tests.conftest import make_zones
from zones.calendar import add_months, local
from zones.schema import Education
from zones.services.education import EDUCATION_TOPICS, record_education

# the smallest PNG header a signature check accepts (data URL of "\x89PNG\r\n\x1a\n")
SIGNATURE = "data:image/png;base64,iVBORw0KGgo="
ALL_TOPICS = list(EDUCATION_TOPICS)


def educate(
    session: Any,
    *,
    visitor_id: int,
    educator_id: int,
    delivered_at: datetime,
    department: str = "steelmaking",
    zones: Iterable[str] = ("smelting",),
    method: str = "video",
    now: datetime | None = None,
    known_zones: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Education:
    """record_education with all topics and a signature, on ``known_zones`` (default: the
    demo plant's zones)."""
    return record_education(
        session,
        visitor_id=visitor_id,
        department=department,
        method=method,
        topics=ALL_TOPICS,
        delivered_at=delivered_at,
        educator_id=educator_id,
        signature=SIGNATURE,
        zones=list(zones),
        known_zones=known_zones or make_zones(),
        now=now or delivered_at,
        **kwargs,
    )


def legacy_education(
    visitor_id: int,
    educator_id: int,
    delivered_at: datetime,
    *,
    signed: bool,
    department: str = "steelmaking",
    topics: Iterable[str] = ("hazards",),
    timezone: str = "Asia/Shanghai",
) -> Education:
    """An education row as records were kept before issue 9: no zones named, free topics,
    the card signed on paper (``signed``, no signature kept) or not at all. Add it to a
    session; the service no longer writes such rows."""
    delivered_on = local(delivered_at, timezone).date()
    return Education(
        visitor_id=visitor_id,
        department=department,
        method="verbal",
        topics=list(topics),
        delivered_at=delivered_at,
        delivered_on=delivered_on,
        educator_id=educator_id,
        valid_until=add_months(delivered_on, 3),
        notification_signed=signed,
        zones=[],
    )
