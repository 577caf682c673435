"""Services: safety education (R6), its card valid N calendar months inclusive (R8), the
notification card kept unaltered through its retention and then purged (R7, R9)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import make_zones
from tests.education import ALL_TOPICS, SIGNATURE
from zones.errors import NotAllowed, ValidationFailed
from zones.schema import Education, NotificationCard
from zones.services import (
    create_user,
    notification_card,
    purge_notification_cards,
    record_education,
    register_visitor,
)


@pytest.fixture
def visitor(session):
    return register_visitor(session, name="Li Lei", id_type="passport", id_number="P1")


def _educate(session, visitor, staff, delivered_at, **kw):  # staff None: pass educator_id
    """Recorded on the day it was given unless ``now`` says otherwise (R6 recording delay)."""
    args = dict(
        visitor_id=visitor.id,
        department="steelmaking",
        method="video",
        topics=ALL_TOPICS,
        delivered_at=delivered_at,
        educator_id=staff.officer_steel.id if staff else None,
        signature=SIGNATURE,
        zones=["smelting"],
        known_zones=make_zones(),
        timezone="Asia/Shanghai",
        now=delivered_at,
    )
    args.update(kw)
    return record_education(session, **args)


@pytest.mark.parametrize(
    ("delivered_at", "months", "valid_until"),
    [
        (datetime(2025, 11, 30, 4, 0, tzinfo=UTC), 3, date(2026, 2, 28)),  # clamped to month end
        (datetime(2023, 11, 30, 4, 0, tzinfo=UTC), 3, date(2024, 2, 29)),  # leap year
        (datetime(2026, 1, 15, 4, 0, tzinfo=UTC), 3, date(2026, 4, 15)),  # same day-of-month
        (datetime(2026, 1, 31, 17, 0, tzinfo=UTC), 3, date(2026, 5, 1)),  # 01:00 on 1 Feb in Shanghai
        (datetime(2026, 10, 31, 4, 0, tzinfo=UTC), 4, date(2027, 2, 28)),  # configured months, over a year end
    ],
)
def test_R8_education_valid_until_is_calendar_months_in_site_time(
    session, visitor, demo_staff, delivered_at, months, valid_until
):
    edu = _educate(session, visitor, demo_staff, delivered_at, valid_months=months)
    assert edu.valid_until == valid_until
    assert edu.delivered_at == delivered_at


def test_R7_signed_card_is_kept_for_retention_months(session, visitor, demo_staff):
    edu = _educate(session, visitor, demo_staff, datetime(2026, 8, 31, 4, 0, tzinfo=UTC), retention_months=6)
    card = notification_card(session, edu.id)
    assert (card.retain_until, card.signature) == (date(2027, 2, 28), SIGNATURE)


def test_R7_every_record_keeps_the_signature_and_names_the_zones_told(session, visitor, demo_staff):
    edu = _educate(
        session, visitor, demo_staff, datetime(2026, 3, 1, 4, 0, tzinfo=UTC), method="verbal", notification_signed=False
    )
    # notification_signed is derived from the signature: a value sent is ignored
    assert (edu.notification_signed, edu.zones) == (True, ["smelting"])
    assert notification_card(session, edu.id).signature == SIGNATURE


AT = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"delivered_at": AT + timedelta(minutes=5)}, "delivered_at", "future"),
        ({"delivered_at": AT - timedelta(days=8)}, "delivered_at", "within 7 days"),
        ({"topics": ALL_TOPICS[1:]}, "topics", "missing: hazards"),
        ({"topics": [*ALL_TOPICS, "gossip"]}, "topics", "unknown gossip"),
        ({"signature": None}, "signature", "signature is required"),
        ({"signature": "data:image/png;base64,bm90IGEgcG5n"}, "signature", "image data URL"),
        ({"signature": "data:image/png;base64," + "A" * 300_000}, "signature", "larger than 200 kB"),
        ({"zones": []}, "zones", "at least one zone"),
        ({"zones": ["assembly"]}, "zones", "not of department steelmaking"),
        ({"department": "assembly", "zones": ["assembly"]}, "educator", "belongs to steelmaking, not assembly"),
    ],
)
def test_R6_education_that_could_be_forged_is_refused_naming_the_field(
    session, visitor, demo_staff, change, field, message
):
    with pytest.raises(ValidationFailed, match=message) as info:
        _educate(session, visitor, demo_staff, **{"delivered_at": AT - timedelta(hours=1), "now": AT, **change})
    assert [f for f, _ in info.value.fields] == [field]
    assert session.scalar(select(Education.id)) is None


def test_R6_recorded_within_the_delay_in_site_days(session, visitor, demo_staff):
    # 7 site-local days back, late in the evening: still within the delay
    edu = _educate(session, visitor, demo_staff, AT - timedelta(days=7, hours=-1), now=AT, record_delay_days=7)
    assert edu.delivered_on == date(2026, 3, 3)


def test_R6_the_safety_department_educates_for_every_zone(session, visitor):
    officer, _ = create_user(session, "Shen Safety", "safety_officer", department="safety")
    edu = _educate(
        session,
        visitor,
        None,
        AT,
        department="safety",
        zones=["assembly", "smelting"],
        educator_id=officer.id,
        method="verbal",
    )
    assert (edu.department, edu.zones) == ("safety", ["assembly", "smelting"])


def test_R6_education_input_and_educator_are_checked(session, visitor, demo_staff):
    at = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as info:
        _educate(session, visitor, demo_staff, at, method="podcast", signature="not an image")
    assert [f for f, _ in info.value.fields] == ["method", "signature"]
    with pytest.raises(NotAllowed, match="R6"):
        _educate(session, visitor, demo_staff, at, educator_id=demo_staff.reception.id)
    with pytest.raises(ValidationFailed):
        _educate(session, visitor, demo_staff, datetime(2026, 3, 1, 4, 0))  # naive time


def test_R7_notification_card_cannot_be_altered_before_retention(session, visitor, demo_staff):
    edu = _educate(session, visitor, demo_staff, datetime.now(UTC))
    with pytest.raises(IntegrityError, match="R7"):
        session.execute(text("UPDATE notification_cards SET signature = 'forged'"))
    session.rollback()
    with pytest.raises(IntegrityError, match="R7"):
        session.execute(text("DELETE FROM notification_cards"))
    session.rollback()
    with pytest.raises(IntegrityError, match="R8"):
        session.execute(text("UPDATE education SET valid_until = valid_until"))
    session.rollback()
    assert notification_card(session, edu.id).signature == SIGNATURE


def test_R7_purge_removes_only_cards_past_retention(session, visitor, demo_staff):
    old = _educate(session, visitor, demo_staff, datetime(2024, 1, 10, 4, 0, tzinfo=UTC))
    recent = _educate(session, visitor, demo_staff, datetime.now(UTC))
    assert purge_notification_cards(session, datetime.now(UTC)) == 1
    assert notification_card(session, old.id) is None
    assert notification_card(session, recent.id) is not None
    assert purge_notification_cards(session, datetime.now(UTC)) == 0
    # the education record itself stays (R19 statistics, R8 history)
    assert session.scalars(select(Education.id).order_by(Education.id)).all() == [old.id, recent.id]
    assert session.scalars(select(NotificationCard.education_id)).all() == [recent.id]
