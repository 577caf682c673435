"""The bounded field types every request (API model or page form) is read through.

One definition of what the web accepts, so no value reaches a service that it cannot
store or compute with (issue 10, findings 4, 5, 9):

- ``Id``: a row id, a strict JSON integer 1..2^31-1 (``true`` and ``"5"`` are not ids; the
  row ids are INTEGER columns, and a larger number makes PostgreSQL fail the statement);
  events, the one BIGINT table, are numbered up to ``EVENT_ID_MAX`` (2^63-1);
- ``Name`` / ``Card`` / ``Text``: strings with a maximum length and without control
  characters or bidirectional overrides (U+202A-U+202E, U+2066-U+2069), which make a name
  read differently on screen than it is stored; free ``Text`` may hold line breaks and tabs;
- ``Moment`` / ``Day``: times with an offset and dates between 1900 and 2200, so shifting
  a time to UTC or adding a validity period cannot leave the calendar;
- ``refused_character``: the check itself, which the page forms share (web.panel.common).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

MAX_ID = 2**31 - 1  # INTEGER primary keys (zones.schema)
EVENT_ID_MAX = 2**63 - 1  # events.id is a BIGINT
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)
NAME_MAX = 200
TEXT_MAX = 2000
LONG_TEXT_MAX = 20000
CARD_MAX = 64
LIST_MAX = 100
BAN_DAYS_MAX = 36500  # a ban of at most 100 years (R17)
# a signature is a PNG data URL of a small canvas (a few tens of kB); R7 keeps it for six
# months, so an upload is bounded well below the request limit (web.errors.MAX_CONTENT_LENGTH)
SIGNATURE_MAX = 512 * 1024

# C0 controls, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_REFUSED_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of ``text`` a field refuses, as ``U+XXXX``; None when clean.
    ``multiline`` allows line breaks and tabs (notes, reasons)."""
    found = (_REFUSED_MULTILINE if multiline else _REFUSED).search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _single_line(text: str) -> str:
    bad = refused_character(text)
    if bad:
        raise ValueError(f"control or bidirectional character {bad} is not allowed")
    return text


def _multiline(text: str) -> str:
    bad = refused_character(text, multiline=True)
    if bad:
        raise ValueError(f"control or bidirectional character {bad} is not allowed")
    return text


def _in_calendar(value: datetime) -> datetime:
    # checked on the local year: a time at year 1 or 9999 with an offset cannot even be
    # shifted to UTC, and one inside the range always can
    if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
        raise ValueError(f"expected a time between {FIRST_DAY.year} and {LAST_DAY.year}")
    return value


def _day_in_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"expected a date between {FIRST_DAY.year} and {LAST_DAY.year}")
    return value


Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(_single_line)]
OptionalName = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_single_line)]
Card = Annotated[str, Field(min_length=1, max_length=CARD_MAX), AfterValidator(_single_line)]
Text = Annotated[str, Field(max_length=TEXT_MAX), AfterValidator(_multiline)]
# a report or an answer to a complaint (R21, R22): a letter's length, not a note's
LongText = Annotated[str, Field(min_length=1, max_length=LONG_TEXT_MAX), AfterValidator(_multiline)]
RequiredText = Annotated[str, Field(min_length=1, max_length=TEXT_MAX), AfterValidator(_multiline)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_calendar)]
Day = Annotated[date, AfterValidator(_day_in_calendar)]
