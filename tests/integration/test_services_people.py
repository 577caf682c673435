"""Services: visitor registration (R2), employees, API tokens and passwords; every write that
could change a gate decision adds a change row naming the person."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from zones.errors import Conflict, NotFound, ValidationFailed
from zones.schema import Change, Visitor
from zones.services import (
    authenticate_password,
    authenticate_token,
    create_token,
    create_user,
    find_visitor,
    register_visitor,
    revoke_token,
    update_employee,
)
from zones.services.people import user_by_name

GOOD_ID = "11010519491231002X"


def _changes(session, person_id):
    return session.scalars(select(Change.what).where(Change.person_id == person_id)).all()


def test_R2_register_resident_id_derives_birth_date_and_stores_the_number(session):
    v = register_visitor(
        session,
        name="Li Lei",
        id_type="resident_id",
        id_number="110105 19491231 002x",
        organisation="Acme",
        phone="13800138000",
    )
    assert v.birth_date == date(1949, 12, 31)
    assert v.id_number == GOOD_ID
    assert find_visitor(session, "11010519491231002x").id == v.id
    assert _changes(session, v.id) == ["visitor"]


def test_R2_wrong_check_character_is_rejected_naming_the_field(session):
    with pytest.raises(ValidationFailed) as info:
        register_visitor(session, name="Li Lei", id_type="resident_id", id_number="110105194912310021")
    assert info.value.fields == [("id_number", "wrong check character: expected X, got 1")]
    assert session.scalars(select(Visitor)).all() == []


def test_R2_given_birth_date_must_match_the_resident_id(session):
    with pytest.raises(ValidationFailed) as info:
        register_visitor(session, name="Li Lei", id_type="resident_id", id_number=GOOD_ID, birth_date=date(1950, 1, 1))
    assert [f for f, _ in info.value.fields] == ["birth_date"]


def test_R2_passport_keeps_the_given_birth_date_and_bad_input_lists_every_field(session):
    v = register_visitor(
        session, name="Ann Smith", id_type="passport", id_number="p1234567", birth_date=date(1990, 5, 1)
    )
    assert (v.id_number, v.birth_date) == ("P1234567", date(1990, 5, 1))
    with pytest.raises(ValidationFailed) as info:
        register_visitor(session, name=" ", id_type="licence", id_number="")
    assert [f for f, _ in info.value.fields] == ["name", "id_type", "id_number"]


def test_R2_registering_the_same_document_again_returns_the_visitor(session):
    first = register_visitor(session, name="Li Lei", id_type="resident_id", id_number=GOOD_ID, phone="1")
    again = register_visitor(session, name="li lei", id_type="resident_id", id_number=GOOD_ID, phone="2")
    assert again.id == first.id and again.phone == "2"
    with pytest.raises(Conflict):
        register_visitor(session, name="Wang Wu", id_type="resident_id", id_number=GOOD_ID)


def test_create_user_validates_role_zones_and_card(session, demo_zones):
    with pytest.raises(ValidationFailed) as info:
        create_user(session, "X", "boss")
    assert info.value.fields[0][0] == "role"
    with pytest.raises(ValidationFailed) as info:
        create_user(session, "X", "escort", escort_zones=["nowhere"], zones=demo_zones)
    assert info.value.fields == [("escort_zones", "unknown zone 'nowhere'")]
    emp, _ = create_user(session, "Eve", "escort", card="e0a1", escort_zones=["smelting"], zones=demo_zones)
    assert emp.card == "E0A1" and emp.escort_zone_ids == ["smelting"]
    assert _changes(session, emp.id) == ["employee"]
    with pytest.raises(Conflict) as conflict:
        create_user(session, "Eva", "escort", card="E0A1")
    assert conflict.value.items == ["card E0A1"]


def test_api_tokens_authenticate_until_revoked_or_deactivated(session):
    emp, token = create_user(session, "Ada", "admin")
    assert authenticate_token(session, token).id == emp.id
    assert authenticate_token(session, token + "x") is None
    assert authenticate_token(session, "") is None
    second = create_token(session, emp.id)
    revoke_token(session, token)
    assert authenticate_token(session, token) is None
    assert authenticate_token(session, second).id == emp.id
    update_employee(session, emp.id, active=False)
    assert authenticate_token(session, second) is None
    with pytest.raises(NotFound):
        revoke_token(session, "never-issued")


def test_passwords_are_hashed_and_verified(session):
    emp, _ = create_user(session, "Ada", "admin", password="correct horse")
    assert emp.password_hash and "correct horse" not in emp.password_hash
    assert authenticate_password(session, "Ada", "correct horse").id == emp.id
    assert authenticate_password(session, "Ada", "wrong") is None
    assert authenticate_password(session, "Bob", "correct horse") is None


def test_a_sign_in_name_apart_from_the_name_the_pages_show(session):
    """Pages show "Zhao Lei"; he signs in as "zhao". Without a login the name signs in."""
    zhao, _ = create_user(session, "Zhao Lei", "safety_officer", password="correct horse", login="zhao")
    ada, _ = create_user(session, "Ada", "admin", password="correct horse")
    assert authenticate_password(session, "zhao", "correct horse").id == zhao.id
    assert authenticate_password(session, "Zhao Lei", "correct horse") is None  # the login, not the name
    assert authenticate_password(session, "Ada", "correct horse").id == ada.id
    assert user_by_name(session, "zhao").id == zhao.id
    with pytest.raises(ValidationFailed) as taken:
        create_user(session, "Zhao Min", "escort", login="zhao")
    assert [f for f, _ in taken.value.fields] == ["login"]
    with pytest.raises(ValidationFailed):
        create_user(session, "Ada Again", "escort", login="Ada")  # Ada signs in as "Ada" already


def test_update_employee_changes_duty_and_card_with_a_change_row(session):
    emp, _ = create_user(session, "Eve", "escort", card="E1")
    other, _ = create_user(session, "Bob", "escort", card="E2")
    update_employee(session, emp.id, on_duty=False, card="e3", escort_zones=["assembly"])
    assert (emp.on_duty, emp.card, emp.escort_zone_ids) == (False, "E3", ["assembly"])
    with pytest.raises(Conflict):
        update_employee(session, emp.id, card="E2")
    assert _changes(session, emp.id) == ["employee", "employee"]
    assert other.card == "E2"
