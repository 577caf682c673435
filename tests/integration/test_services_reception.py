"""Reception services (R21-R23) on SQLite and PostgreSQL: working-day deadlines from the
site-local day across a holiday and an adjusted Saturday, the one-step ban of a B person
(R17), a C inspector's walk-in exception with the safety department's verbal briefing
(R1, R6), and the deadline sweep (a missed promised date alerts again)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import make_zones
from tests.education import ALL_TOPICS, SIGNATURE
from zones.config import ReceptionSection
from zones.errors import ValidationFailed
from zones.facts import Policy
from zones.schema import Alert, Ban, Education, Visit
from zones.services import book_visit, create_user, register_visitor
from zones.services.reception_complaints import answer_complaint, answered_late, register_complaint
from zones.services.reception_incidents import PersonIn, admit_inspector, ban_from_incident, record_incident
from zones.services.reception_overdue import sweep_overdue

TZ = "Asia/Shanghai"
SETTINGS = ReceptionSection(holidays=[date(2027, 2, 8), date(2027, 2, 9)], workdays=[date(2027, 2, 6)])


def _incident(session: Session, staff: SimpleNamespace, category: str, arrived_at: datetime, **kw: Any) -> Any:
    return record_incident(
        session,
        category=category,
        people=kw.pop("people", [PersonIn("Someone")]),
        summary="at the gate",
        arrived_at=arrived_at,
        recorded_by=staff.reception.id,
        settings=SETTINGS,
        timezone=TZ,
        **kw,
    )


@pytest.mark.parametrize(
    "arrived_at, due",
    [
        # Friday 23:30 in Shanghai is still Friday there (15:30 UTC): due Tuesday
        (datetime(2026, 11, 20, 15, 30, tzinfo=UTC), date(2026, 11, 24)),
        # Saturday 00:30 in Shanghai (Friday 16:30 UTC): from Saturday, due Tuesday as well
        (datetime(2026, 11, 20, 16, 30, tzinfo=UTC), date(2026, 11, 24)),
        # Friday 2027-02-05: the adjusted Saturday counts, Monday and Tuesday are holidays
        (datetime(2027, 2, 5, 2, 0, tzinfo=UTC), date(2027, 2, 10)),
    ],
)
def test_report_due_counts_working_days_from_the_site_local_day(
    session: Session, demo_staff: SimpleNamespace, arrived_at: datetime, due: date
) -> None:
    assert _incident(session, demo_staff, "other", arrived_at).report_due == due


def test_a_B_person_is_banned_in_one_step(session: Session, demo_staff: SimpleNamespace) -> None:
    v = register_visitor(session, name="Bo Former", id_type="passport", id_number="P0000007")
    now = datetime.now(UTC)
    b = _incident(session, demo_staff, "B", now, people=[PersonIn("Bo Former", "", "p0000007")])
    assert b.people[0].person_id == v.id
    breach = ban_from_incident(session, b.id, v.id, days=30, seen_by=demo_staff.officer_steel.id)
    assert breach.rule == "R17" and breach.severity == "ban" and f"incident {b.id}" in breach.note
    assert session.scalars(select(Ban).where(Ban.person_id == v.id)).one().breach_id == breach.id
    a = _incident(session, demo_staff, "A", now, people=[PersonIn("Bo Former", "", "P0000007")])
    with pytest.raises(ValidationFailed):
        ban_from_incident(session, a.id, v.id, days=30, seen_by=demo_staff.officer_steel.id)


def test_a_C_inspector_gets_the_walk_in_exception_with_the_verbal_briefing(
    session: Session, demo_staff: SimpleNamespace
) -> None:
    v = register_visitor(session, name="Ivy Inspector", id_type="passport", id_number="INSP0001")
    visit = book_visit(session, visitor_id=v.id, host_id=demo_staff.reception.id, purpose="tax inspection")
    c = _incident(session, demo_staff, "C", datetime.now(UTC), people=[PersonIn("Ivy Inspector", "Tax", "INSP0001")])
    safety_officer, _ = create_user(session, "Sid Safety", "safety_officer", department="safety")
    admit_inspector(
        session,
        c.id,
        visit_id=visit.id,
        officer_id=safety_officer.id,
        reason="unannounced tax inspection (R21 C)",
        topics=ALL_TOPICS,
        signature=SIGNATURE,
        zones=["smelting"],
        known_zones=make_zones(),
        policy=Policy(timezone=TZ),
    )
    session.expire_all()
    assert session.get(Visit, visit.id).walk_in_approved_by == safety_officer.id  # type: ignore[union-attr]
    edu = session.scalars(select(Education).where(Education.visitor_id == v.id)).one()
    assert (edu.department, edu.method) == ("safety", "verbal")


def test_R1_R6_a_C_inspector_whose_briefing_is_refused_gets_no_walk_in_either(
    session: Session, demo_staff: SimpleNamespace
) -> None:
    v = register_visitor(session, name="Ivy Inspector", id_type="passport", id_number="INSP0002")
    visit = book_visit(session, visitor_id=v.id, host_id=demo_staff.reception.id, purpose="tax inspection")
    c = _incident(session, demo_staff, "C", datetime.now(UTC), people=[PersonIn("Ivy Inspector", "Tax", "INSP0002")])
    safety_officer, _ = create_user(session, "Sid Safety", "safety_officer", department="safety")
    with pytest.raises(ValidationFailed) as refused:
        admit_inspector(
            session,
            c.id,
            visit_id=visit.id,
            officer_id=safety_officer.id,
            reason="unannounced tax inspection (R21 C)",
            topics=ALL_TOPICS[:-1],  # one R6 topic not covered
            signature=SIGNATURE,
            zones=["smelting"],
            known_zones=make_zones(),
            policy=Policy(timezone=TZ),
        )
    assert [f for f, _ in refused.value.fields] == ["topics"]
    session.rollback()
    assert session.get(Visit, visit.id).walk_in_approved_by is None  # type: ignore[union-attr]


def test_a_missed_promised_date_alerts_again(session: Session, demo_staff: SimpleNamespace) -> None:
    registered = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday: due Thursday 2026-11-05
    c = register_complaint(
        session,
        name="Nina",
        contact="",
        channel="letter",
        subject="dust",
        department="steelmaking",
        text="",
        registered_by=demo_staff.reception.id,
        settings=SETTINGS,
        timezone=TZ,
        now=registered,
    )
    assert c.answer_due == date(2026, 11, 5)
    friday = datetime(2026, 11, 6, 2, 0, tzinfo=UTC)
    assert sweep_overdue(session, friday, TZ) == 1
    answer_complaint(
        session,
        c.id,
        text="we measure first",
        promised_date=date(2026, 11, 10),
        answered_by=demo_staff.officer_steel.id,
        timezone=TZ,
        now=friday,
    )
    assert sweep_overdue(session, friday, TZ) == 0  # the promised date is the deadline now
    assert sweep_overdue(session, friday + timedelta(days=5), TZ) == 1
    keys = sorted(a.key for a in session.scalars(select(Alert).where(Alert.kind == "complaint-overdue")))
    assert keys == [f"complaint-overdue:{c.id}:2026-11-05", f"complaint-overdue:{c.id}:2026-11-10"]
    answer_complaint(
        session, c.id, text="filters replaced", answered_by=demo_staff.officer_steel.id, timezone=TZ,
        now=friday + timedelta(days=5),
    )  # fmt: skip
    assert answered_late(c, TZ)
