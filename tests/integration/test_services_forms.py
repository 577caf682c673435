"""Services: visitor entry contact forms (R5), their escort (R10) and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from zones.errors import Conflict, NotAllowed, ValidationFailed
from zones.schema import Change
from zones.services import approve_contact_form, create_contact_form, register_visitor, revoke_contact_form

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def visitor(session):
    return register_visitor(session, name="Li Lei", id_type="passport", id_number="P1")


def _form(session, visitor, staff, zones=("smelting",), **kw):
    args = dict(
        visitor_id=visitor.id,
        zones=list(zones),
        escort_id=staff.escort.id,
        purpose="inspection",
        valid_from=NOW,
        valid_until=NOW + timedelta(hours=8),
        created_by=staff.reception.id,
        now=NOW,
    )
    args.update(kw)
    return create_contact_form(session, **args)


def test_R5_form_is_created_pending_and_validated(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff, zones=("smelting", "assembly"), known_zones=demo_zones)
    assert (form.state, form.zone_ids) == ("pending", ["assembly", "smelting"])
    with pytest.raises(ValidationFailed) as info:
        _form(session, visitor, demo_staff, zones=(), purpose="", valid_until=NOW - timedelta(hours=1))
    assert [f for f, _ in info.value.fields] == ["zones", "purpose", "valid_until"]
    with pytest.raises(ValidationFailed):
        _form(session, visitor, demo_staff, zones=("furnace",), known_zones=demo_zones)


def test_R10_form_escort_must_be_authorised_in_every_zone(session, visitor, demo_staff):
    with pytest.raises(ValidationFailed, match=r"may not escort in smelting \(R10\)"):
        _form(session, visitor, demo_staff, escort_id=demo_staff.officer_assembly.id, zones=("smelting",))
    with pytest.raises(ValidationFailed):
        _form(session, visitor, demo_staff, escort_id=99999)


@pytest.mark.parametrize(
    ("approver", "zones", "allowed"),
    [
        ("officer_steel", ("smelting",), True),  # safety officer of the owning department
        ("head_steel", ("smelting",), True),  # head of the owning department
        ("officer_assembly", ("smelting",), False),  # safety officer of another department
        ("escort", ("smelting",), False),  # same department, neither head nor safety officer
        ("admin", ("smelting",), False),
        ("reception", ("assembly",), False),
        ("officer_assembly", ("assembly",), True),
        ("officer_steel", ("assembly", "smelting"), False),  # must hold both departments
        ("head_steel", ("assembly", "smelting"), False),
    ],
)
def test_R5_only_department_head_or_safety_officer_approves(
    session, visitor, demo_staff, demo_zones, approver, zones, allowed
):
    form = _form(session, visitor, demo_staff, zones=zones)
    who = getattr(demo_staff, approver)
    if allowed:
        approve_contact_form(session, form.id, who.id, demo_zones, now=NOW)
        assert (form.state, form.approved_by, form.approved_at) == ("approved", who.id, NOW)
        change = session.scalars(select(Change).order_by(Change.no.desc())).first()
        assert (change.person_id, change.what) == (visitor.id, "form")
    else:
        with pytest.raises(NotAllowed, match="R5"):
            approve_contact_form(session, form.id, who.id, demo_zones, now=NOW)
        session.refresh(form)
        assert form.state == "pending"


def test_R5_form_needs_both_departments_when_it_spans_them(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff, zones=("assembly", "smelting"))
    with pytest.raises(NotAllowed, match="assembly"):
        approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones)


def test_R5_revoked_form_cannot_be_approved_and_revocation_is_a_change(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff)
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones, now=NOW)
    with pytest.raises(Conflict):
        approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones, now=NOW)
    revoke_contact_form(session, form.id, demo_staff.officer_steel.id, "visit cancelled", now=NOW)
    assert (form.state, form.revoke_reason) == ("revoked", "visit cancelled")
    whats = session.scalars(select(Change.what).where(Change.person_id == visitor.id)).all()
    assert whats[-2:] == ["form", "form"]
    with pytest.raises(Conflict):
        revoke_contact_form(session, form.id, demo_staff.officer_steel.id)
