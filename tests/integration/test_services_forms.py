"""Services: visitor entry contact forms (R5), their escorts of record (R10), permissions
(R13), approval by each department and revocation by the same people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from zones.errors import Conflict, NotAllowed, ValidationFailed
from zones.schema import Change
from zones.services import approve_contact_form, create_contact_form, register_visitor, revoke_contact_form
from zones.services.forms import pending_departments

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


def test_R5_each_department_approves_for_itself_and_the_form_waits_for_both(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff, zones=("assembly", "smelting"))
    changes = session.scalar(select(func.count()).select_from(Change))
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones, now=NOW)
    assert form.state == "pending" and pending_departments(form, demo_zones) == ["assembly"]
    assert [(a.department, a.approved_by) for a in form.approvals] == [("steelmaking", demo_staff.officer_steel.id)]
    assert session.scalar(select(func.count()).select_from(Change)) == changes  # pending: no decision changes
    with pytest.raises(Conflict, match="steelmaking already approved"):  # the head: same department, done
        approve_contact_form(session, form.id, demo_staff.head_steel.id, demo_zones, now=NOW)
    for third_party in (demo_staff.escort, demo_staff.admin, demo_staff.reception):
        with pytest.raises(NotAllowed, match="R5"):
            approve_contact_form(session, form.id, third_party.id, demo_zones, now=NOW)
    later = NOW + timedelta(minutes=5)
    approve_contact_form(session, form.id, demo_staff.officer_assembly.id, demo_zones, now=later)
    assert (form.state, form.approved_by, form.approved_at) == ("approved", demo_staff.officer_assembly.id, later)
    assert pending_departments(form, demo_zones) == []
    assert sorted(a.department for a in form.approvals) == ["assembly", "steelmaking"]
    change = session.scalars(select(Change).order_by(Change.no.desc())).first()
    assert (change.person_id, change.what) == (visitor.id, "form")


def test_R5_only_who_may_approve_for_one_of_its_departments_or_an_admin_revokes(
    session, visitor, demo_staff, demo_zones
):
    form = _form(session, visitor, demo_staff)
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones, now=NOW)
    for outsider in (demo_staff.officer_assembly, demo_staff.escort, demo_staff.reception):
        with pytest.raises(NotAllowed, match="R5"):
            revoke_contact_form(session, form.id, outsider.id, "no", zones=demo_zones, now=NOW)
    session.refresh(form)
    assert form.state == "approved"
    revoke_contact_form(session, form.id, demo_staff.head_steel.id, "visit cancelled", zones=demo_zones, now=NOW)
    assert (form.state, form.revoked_by) == ("revoked", demo_staff.head_steel.id)
    other = _form(session, visitor, demo_staff, zones=("assembly", "smelting"))
    revoke_contact_form(session, other.id, demo_staff.admin.id, "duplicate", zones=demo_zones, now=NOW)
    assert other.state == "revoked"


def test_R10_a_form_names_one_or_more_escorts_of_its_zones_department_or_authorised(
    session, visitor, demo_staff, demo_zones
):
    # Hank heads steelmaking without an explicit escort zone: his department owns smelting
    form = _form(
        session,
        visitor,
        demo_staff,
        escort_id=None,
        escort_ids=[demo_staff.escort.id, demo_staff.head_steel.id],
        known_zones=demo_zones,
    )
    assert sorted(e.employee_id for e in form.escorts) == sorted([demo_staff.escort.id, demo_staff.head_steel.id])
    assert form.escort_id == demo_staff.escort.id  # the first named
    with pytest.raises(ValidationFailed, match=r"Hank Head may not escort in assembly \(R10\)"):
        _form(
            session,
            visitor,
            demo_staff,
            zones=("assembly",),
            escort_ids=[demo_staff.head_steel.id],
            escort_id=None,
            known_zones=demo_zones,
        )
    with pytest.raises(ValidationFailed) as info:
        _form(session, visitor, demo_staff, escort_id=None)
    assert [f for f, _ in info.value.fields] == ["escort_ids"]


def test_R13_a_form_grants_permissions_from_the_fixed_list(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff, permissions=["photography", "vehicle"])
    assert form.permissions == ["photography", "vehicle"]
    with pytest.raises(ValidationFailed, match="unknown flying") as info:
        _form(session, visitor, demo_staff, permissions=["photography", "flying"])
    assert [f for f, _ in info.value.fields] == ["permissions"]


def test_R5_revoked_form_cannot_be_approved_and_revocation_is_a_change(session, visitor, demo_staff, demo_zones):
    form = _form(session, visitor, demo_staff)
    approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones, now=NOW)
    with pytest.raises(Conflict):
        approve_contact_form(session, form.id, demo_staff.officer_steel.id, demo_zones, now=NOW)
    revoke_contact_form(session, form.id, demo_staff.officer_steel.id, "visit cancelled", zones=demo_zones, now=NOW)
    assert (form.state, form.revoke_reason) == ("revoked", "visit cancelled")
    whats = session.scalars(select(Change.what).where(Change.person_id == visitor.id)).all()
    assert whats[-2:] == ["form", "form"]
    with pytest.raises(Conflict):
        revoke_contact_form(session, form.id, demo_staff.officer_steel.id, zones=demo_zones)
