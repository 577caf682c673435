"""Services: booking and walk-ins (R1), check-in (R2), badges (R3), helmets and check-out
(R4, R12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from zones.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from zones.schema import Badge, Change, Visit
from zones.services import (
    book_visit,
    check_in,
    check_out,
    flag_overdue,
    issue_badge,
    issue_helmet,
    record_breach,
    register_visitor,
    report_badge_lost,
    return_badge,
    return_helmet,
    walk_in_exception,
)

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
ID = "11010519491231002X"


@pytest.fixture
def visitor(session):
    return register_visitor(session, name="Li Lei", id_type="resident_id", id_number=ID, organisation="Acme")


@pytest.fixture
def visit(session, visitor, demo_staff):
    return book_visit(
        session,
        visitor_id=visitor.id,
        host_id=demo_staff.escort.id,
        purpose="audit",
        expected_at=NOW,
        now=NOW - timedelta(days=1),
    )


@pytest.fixture
def on_site(session, visit):
    return check_in(session, visit.id, ID, now=NOW)


def test_R1_booking_validates_visitor_host_and_purpose(session, visitor, demo_staff):
    with pytest.raises(NotFound):
        book_visit(session, visitor_id=999, host_id=demo_staff.escort.id, purpose="x")
    with pytest.raises(NotFound):
        book_visit(session, visitor_id=visitor.id, host_id=999, purpose="x")
    with pytest.raises(ValidationFailed):
        book_visit(session, visitor_id=visitor.id, host_id=demo_staff.escort.id, purpose=" ")
    with pytest.raises(ValidationFailed):
        book_visit(
            session,
            visitor_id=visitor.id,
            host_id=demo_staff.escort.id,
            purpose="x",
            expected_at=datetime(2026, 3, 10, 9, 0),
        )  # naive: no offset
    v = book_visit(session, visitor_id=visitor.id, host_id=demo_staff.escort.id, purpose="x")
    assert (v.state, v.booked_ahead) == ("booked", True)
    with pytest.raises(Conflict):  # one open visit at a time
        book_visit(session, visitor_id=visitor.id, host_id=demo_staff.escort.id, purpose="again")


def test_R1_walk_in_needs_a_safety_officer_and_a_reason(session, visitor, demo_staff):
    v = book_visit(
        session, visitor_id=visitor.id, host_id=demo_staff.escort.id, purpose="urgent repair", booked_ahead=False
    )
    with pytest.raises(NotAllowed):
        walk_in_exception(session, v.id, demo_staff.reception.id, "pump broke")
    with pytest.raises(ValidationFailed):
        walk_in_exception(session, v.id, demo_staff.officer_steel.id, "")
    walk_in_exception(session, v.id, demo_staff.officer_steel.id, "pump broke")
    assert (v.walk_in_approved_by, v.walk_in_reason) == (demo_staff.officer_steel.id, "pump broke")


def test_R2_check_in_identity_must_match(session, visit):
    with pytest.raises(ValidationFailed) as info:
        check_in(session, visit.id, "440524188001010014", now=NOW)
    assert info.value.fields[0][0] == "id_number"
    assert visit.state == "booked"
    check_in(session, visit.id, "11010519491231002x", now=NOW)
    assert (visit.state, visit.arrived_at) == ("on-site", NOW)
    with pytest.raises(Conflict):
        check_in(session, visit.id, ID, now=NOW)


def test_R17_check_in_refused_while_banned(session, visitor, visit, demo_staff):
    record_breach(
        session,
        person_id=visitor.id,
        rule="R13",
        prohibition=1,
        severity="ban",
        days=30,
        seen_by=demo_staff.guard.id,
        note="smoking",
        now=NOW - timedelta(days=2),
    )
    assert visit.state == "closed"  # the ban cancelled the booked visit
    again = book_visit(session, visitor_id=visitor.id, host_id=demo_staff.escort.id, purpose="retry")
    with pytest.raises(Conflict, match="banned until"):
        check_in(session, again.id, ID, now=NOW)


def test_R3_one_active_badge_per_visitor_and_per_card(session, on_site, demo_staff):
    badge = issue_badge(session, on_site.id, " 00a1b2c3d4 ", now=NOW)
    assert (badge.card, badge.state) == ("00A1B2C3D4", "active")
    with pytest.raises(Conflict) as info:
        issue_badge(session, on_site.id, "FFFF", now=NOW)
    assert info.value.items == ["badge 00A1B2C3D4"]
    other = register_visitor(session, name="Ann", id_type="passport", id_number="P1")
    other_visit = book_visit(session, visitor_id=other.id, host_id=demo_staff.escort.id, purpose="x")
    with pytest.raises(Conflict, match="already issued"):
        issue_badge(session, other_visit.id, "00A1B2C3D4", now=NOW)
    with pytest.raises(Conflict, match="employee"):
        issue_badge(session, other_visit.id, demo_staff.escort.card, now=NOW)


def test_R3_lost_badge_is_recorded_with_a_change_and_cannot_be_returned(session, on_site):
    issue_badge(session, on_site.id, "C1", now=NOW)
    before = session.scalar(select(Change.no).order_by(Change.no.desc()).limit(1))
    lost = report_badge_lost(session, "c1", now=NOW)
    assert (lost.state, lost.lost_at) == ("lost", NOW)
    change = session.scalars(select(Change).where(Change.no > before)).one()
    assert (change.person_id, change.what) == (on_site.visitor_id, "badge")
    with pytest.raises(NotFound):
        return_badge(session, "C1")
    replacement = issue_badge(session, on_site.id, "C2", now=NOW)  # a new badge for the same visitor
    assert replacement.state == "active"


def test_R3_returned_card_can_be_issued_again(session, on_site):
    issue_badge(session, on_site.id, "C1", now=NOW)
    return_badge(session, "C1", now=NOW)
    again = issue_badge(session, on_site.id, "C1", now=NOW)
    assert session.scalars(select(Badge.state).where(Badge.card == "C1").order_by(Badge.id)).all() == [
        "returned",
        "active",
    ]
    assert again.state == "active"


def test_R12_check_out_refused_while_helmet_out(session, on_site):
    issue_helmet(session, on_site.visitor_id, "H-17", now=NOW)
    with pytest.raises(Conflict) as info:
        check_out(session, on_site.id, now=NOW)
    assert info.value.items == ["helmet H-17"]
    session.refresh(on_site)
    assert on_site.state == "on-site" and "helmet H-17" in on_site.flagged
    return_helmet(session, on_site.visitor_id, "H-17", now=NOW)
    check_out(session, on_site.id, now=NOW + timedelta(hours=1))
    assert (on_site.state, on_site.flagged) == ("closed", None)


def test_R12_check_out_refused_while_badge_out_lists_everything_out(session, on_site):
    issue_badge(session, on_site.id, "C9", now=NOW)
    issue_helmet(session, on_site.visitor_id, "H-1", now=NOW)
    with pytest.raises(Conflict) as info:
        check_out(session, on_site.id, now=NOW)
    assert info.value.items == ["badge C9", "helmet H-1"]
    return_badge(session, "C9")
    return_helmet(session, on_site.visitor_id, "H-1")
    assert check_out(session, on_site.id, now=NOW).state == "closed"
    with pytest.raises(Conflict):
        check_out(session, on_site.id, now=NOW)


def test_R12_one_helmet_per_visitor_and_helmet(session, on_site, demo_staff):
    issue_helmet(session, on_site.visitor_id, "H-1", now=NOW)
    with pytest.raises(Conflict):
        issue_helmet(session, on_site.visitor_id, "H-2", now=NOW)
    other = register_visitor(session, name="Ann", id_type="passport", id_number="P1")
    with pytest.raises(Conflict):
        issue_helmet(session, other.id, "H-1", now=NOW)
    with pytest.raises(NotFound):
        return_helmet(session, other.id, "H-1")


def test_R4_overdue_visits_are_flagged(session, on_site):
    assert flag_overdue(session, NOW + timedelta(hours=11)) == []
    flagged = flag_overdue(session, NOW + timedelta(hours=13))
    assert [v.id for v in flagged] == [on_site.id]
    assert "overdue" in session.get(Visit, on_site.id).flagged
