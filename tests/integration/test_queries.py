"""The web's read queries (zones.services.queries): an escort's own visitors have one
definition, and an escort's lists are filtered in SQL before they are cut to length."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.conftest import make_zones
from tests.education import educate
from zones.services import (
    book_visit,
    create_contact_form,
    register_visitor,
    revoke_contact_form,
)
from zones.services.queries.education import expiring_education
from zones.services.queries.visitors import escort_visitors, is_own_visitor, search_visitors
from zones.services.queries.visits import count_open_visits, open_visits

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def _visitor(session: Any, n: int) -> Any:
    return register_visitor(
        session, name=f"Visitor {n}", id_type="passport", id_number=f"P{n:07d}", organisation="Acme"
    )


def _form(session: Any, visitor_id: int, escort_id: int, staff: Any) -> Any:
    return create_contact_form(
        session,
        visitor_id=visitor_id,
        zones=["smelting"],
        escort_id=escort_id,
        purpose="audit",
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=8),
        created_by=staff.reception.id,
        now=NOW,
    )


def test_own_visitors_are_on_a_form_not_revoked_or_hosted(session: Any, demo_staff: Any) -> None:
    eve = demo_staff.escort.id
    on_form, hosted, revoked, other = (_visitor(session, n) for n in range(1, 5))
    _form(session, on_form.id, eve, demo_staff)
    book_visit(session, visitor_id=hosted.id, host_id=eve, purpose="audit", now=NOW)
    form = _form(session, revoked.id, eve, demo_staff)
    revoke_contact_form(session, form.id, demo_staff.officer_steel.id, "cancelled", zones=make_zones(), now=NOW)
    _form(session, other.id, demo_staff.officer_steel.id, demo_staff)

    assert {v.id for v in search_visitors(session, own_visitors_of=eve)} == {on_form.id, hosted.id}
    assert [is_own_visitor(session, eve, v.id) for v in (on_form, hosted, revoked, other)] == [True, True, False, False]
    assert {v.id for v in search_visitors(session)} == {on_form.id, hosted.id, revoked.id, other.id}


def test_an_escort_s_lists_are_complete_whatever_the_others_have(session: Any, demo_staff: Any) -> None:
    eve = demo_staff.escort.id
    mine = _visitor(session, 1)
    my_visit = book_visit(session, visitor_id=mine.id, host_id=eve, purpose="audit", now=NOW)
    educate(session, visitor_id=mine.id, educator_id=demo_staff.officer_steel.id, delivered_at=NOW - timedelta(days=85))
    for n in range(2, 6):  # newer visits and education of someone else's visitors
        v = _visitor(session, n)
        book_visit(session, visitor_id=v.id, host_id=demo_staff.reception.id, purpose="audit", now=NOW)
        educate(
            session, visitor_id=v.id, educator_id=demo_staff.officer_steel.id, delivered_at=NOW - timedelta(days=85)
        )

    assert [r.visit.id for r in open_visits(session, own_visitors_of=eve, limit=2)] == [my_visit.id]
    assert len(open_visits(session, limit=2)) == 2 and count_open_visits(session) == 5
    assert [v.id for v in search_visitors(session, own_visitors_of=eve, limit=2)] == [mine.id]
    expiring = expiring_education(session, date(2026, 3, 1), 30, own_visitors_of=eve)
    assert [r.visitor.id for r in expiring] == [mine.id]
    assert len(expiring_education(session, date(2026, 3, 1), 30)) == 5
    assert [(r.visitor.id, r.visit.id) for r in escort_visitors(session, eve)] == [(mine.id, my_visit.id)]
