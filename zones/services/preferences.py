"""An employee's own preferences that no gate decision depends on: the language of the
pages. Kept apart from people.py because nothing here touches the change
sequence: the controllers do not care which language a user reads."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zones.errors import Problem, ValidationFailed
from zones.languages import LANGUAGES, normalise_language
from zones.services._common import employee


def set_language(session: Session, employee_id: int, language: str) -> None:
    """Remember ``language`` ("en" or "zh"; zh-CN, zh_CN and zh-Hans mean zh) for the
    employee's pages. Raises ValidationFailed for another language, NotFound for an unknown
    employee."""
    lang = normalise_language(language)
    if lang is None:
        raise ValidationFailed([("language", Problem("one-of", choices=", ".join(LANGUAGES)))])
    employee(session, employee_id).language = lang
    session.commit()
