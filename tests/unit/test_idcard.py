"""GB 11643-1999 resident identity numbers (R2) and masking (R20)."""

from __future__ import annotations

from datetime import date

import pytest

from zones.idcard import check_character, mask, validate_resident_id


@pytest.mark.parametrize(
    ("number", "birth"),
    [
        ("11010519491231002X", date(1949, 12, 31)),  # the standard's own example
        ("11010519491231002x", date(1949, 12, 31)),  # lower-case x is accepted
        ("440524188001010014", date(1880, 1, 1)),  # the standard's second example
        ("110101200002290018", date(2000, 2, 29)),  # leap day
        (" 11010519491231002X ", date(1949, 12, 31)),
    ],
)
def test_R2_good_resident_ids_give_the_birth_date(number, birth):
    assert validate_resident_id(number) == birth


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("110105194912310021", "wrong check character: expected X, got 1"),
        ("440524188001010013", "expected 4, got 3"),
        ("11010519491231002", "18 characters, got 17"),
        ("11010519491231002XX", "18 characters, got 19"),
        ("1101051949123100AX", "must be digits"),
        ("11010519491231002Y", "digit or X"),
        ("110101199902290011", "not a valid date"),  # 1999 is not a leap year
        ("110101199913010011", "not a valid date"),
        ("110101179912310011", "impossible"),
        ("110101299912310011", "impossible"),  # born in the future
        ("１１０１０５１９４９１２３１００２X", "must be digits"),  # full-width digits
    ],
)
def test_R2_bad_resident_ids_are_rejected_with_a_clear_message(number, message):
    with pytest.raises(ValueError, match=message):
        validate_resident_id(number)


def test_R20_error_messages_never_repeat_the_number():
    with pytest.raises(ValueError) as info:
        validate_resident_id("110105194912310021")
    assert "110105194912310021" not in str(info.value)


@pytest.mark.parametrize(
    "first17", ["11010519491231002", "44052418800101001", "32010619990909123", "00000000000000000"]
)
def test_R2_check_character_is_iso_7064_mod_11_2(first17):
    # independent formulation: weight of position i is 2^(17-i) mod 11; check = (12 - sum mod 11) mod 11
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    assert check_character(first17) == ("X" if value == 10 else str(value))


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("11010519491231002X", "110***********002X"),
        ("13800138000", "138****8000"),
        ("E1234567", "E12*4567"),
        ("1234567", "*******"),
        ("", ""),
        (None, ""),
    ],
)
def test_R20_mask_keeps_first_three_and_last_four(value, masked):
    assert mask(value) == masked
