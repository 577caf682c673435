"""An employee's own preferences that no gate decision depends on: the language of the
pages. Kept apart from people.py because nothing here touches the change
sequence: the controllers do not care which language a user reads."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zones.errors import ValidationFailed
from zones.services._common import employee

LANGUAGES = ("en", "zh")


def set_language(session: Session, employee_id: int, language: str) -> None:
    """Remember ``language`` ("en" or "zh") for the employee's pages.
    Raises ValidationFailed for another language, NotFound for an unknown employee."""
    if language not in LANGUAGES:
        raise ValidationFailed([("language", f"expected one of {', '.join(LANGUAGES)}")])
    employee(session, employee_id).language = language
    session.commit()
