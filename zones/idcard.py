"""Chinese resident identity numbers (GB 11643-1999) and masking of personal data (R2, R20).

An 18-character number is 6 digits of region, 8 digits of birth date (YYYYMMDD), 3 digits of
sequence and a check character computed from the first 17 digits.
"""

from __future__ import annotations

from datetime import date

from zones.errors import Problem

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_resident_id(number: str) -> date:
    """Validate an 18-character resident identity number and return the birth date in it.

    Raises ValueError saying what is wrong: the length, a bad character, an impossible birth
    date, or a wrong check character (naming the expected one). The message never repeats
    the number itself (R20: identity numbers are not logged).
    """
    n = number.strip().upper()
    if len(n) != 18:
        raise ValueError(Problem("id-length", n=len(n)))
    if not n[:17].isdigit() or not n[:17].isascii():
        raise ValueError(Problem("id-digits"))
    if not (n[17].isdigit() and n[17].isascii()) and n[17] != "X":
        raise ValueError(Problem("id-last"))
    try:
        birth = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError as err:
        raise ValueError(Problem("id-date-invalid", date=n[6:14])) from err
    if birth.year < 1800 or birth > date.today():
        raise ValueError(Problem("id-date-impossible", date=n[6:14]))
    expected = check_character(n[:17])
    if n[17] != expected:
        raise ValueError(Problem("id-check", expected=expected, got=n[17]))
    return birth


def mask(number: str | None) -> str:
    """First 3 and last 4 characters, the rest as ``*`` (R20). Short values are fully masked."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
