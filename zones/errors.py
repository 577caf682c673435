"""Domain errors raised by zones.services. The web maps them to HTTP status codes
(NotFound 404, Conflict 409, ValidationFailed 422, NotAllowed 403); the CLI prints them.

Like a rule's ``Reason`` (zones.messages), a refusal carries a code and its parameters next
to the English message, so the pages can say it in another language: services raise
``NotFound(Problem("no-such", what="visit", id=7))``. ``Problem`` *is* the English text (a
``str``), so code that only wants the message keeps working unchanged. The English
templates below are marked with ``N_`` for the translators' catalogue (pybabel extract);
the Chinese lives in web/translations.
"""

from __future__ import annotations

from collections.abc import Mapping


def N_(text: str) -> str:
    """Mark ``text`` for the translation catalogue without translating it here."""
    return text


# code -> English template (%-style named parameters)
PROBLEMS: dict[str, str] = {
    "empty": N_("must not be empty"),
    "empty-r5": N_("must not be empty (R5)"),
    "one-of": N_("expected one of %(choices)s"),
    "no-such": N_("no %(what)s with id %(id)s"),
    "no-such-active": N_("no active %(what)s with id %(id)s"),
    "needs-role": N_("%(action)s needs role %(roles)s; %(name)s is %(role)s"),
    "needs-offset": N_("needs a time zone offset (ISO 8601 with offset)"),
    "card-number": N_("expected a card number (1-64 characters, no spaces)"),
    "bad-zone": N_("bad zone id '%(zone)s'"),
    "unknown-zone": N_("unknown zone '%(zone)s'"),
    "rule-id": N_("expected a rule id of the rulebook, R1-R20"),
    "ban-days": N_("a ban needs a number of days (at least 1)"),
    "days-only-ban": N_("only a ban has days"),
    "cancel-visitor-only": N_("only a visitor's visit can be cancelled"),
    "string-list": N_("expected a list of strings"),
    "image-url": N_("expected an image data URL (data:image/png;base64,...)"),
    "signature-unsigned": N_("a signature needs notification_signed = true"),
    "educator-role": N_("R6: education is given by a safety officer or the dispatch room, not %(role)s"),
    "no-zones": N_("name at least one zone (R5)"),
    "after-valid-from": N_("must be after valid_from"),
    "may-not-escort": N_("%(escort)s may not escort in %(zones)s (R10)"),
    "form-not-pending": N_("the form is %(state)s, not pending"),
    "form-revoked": N_("the form is already revoked"),
    "approver": N_("R5: only the head or a safety officer of %(departments)s may approve entry to %(zones)s"),
    "visit-closed": N_("the visit is closed"),
    "visit-already-closed": N_("the visit is already closed"),
    "visit-not-booked": N_("the visit is %(state)s, not booked"),
    "open-visit": N_("the visitor already has open visit %(visit)s"),
    "walk-in-reason": N_("a walk-in exception needs its reason (R1)"),
    "id-mismatch": N_("does not match the identity document registered for this visit (R2)"),
    "banned": N_("the visitor is banned until %(date)s (R17)"),
    "still-out": N_("return these before check-out (R12): %(items)s"),
    "employee-card": N_("card %(card)s is an employee's card"),
    "card-issued": N_("card %(card)s is already issued"),
    "holds-badge": N_("the visitor already holds badge %(card)s (R3: one active badge)"),
    "no-badge": N_("no active badge with card %(card)s"),
    "helmet-issued": N_("helmet %(no)s is already issued"),
    "holds-helmet": N_("the visitor already holds helmet %(no)s"),
    "not-holding-helmet": N_("visitor %(visitor)s does not hold helmet %(no)s"),
    "badge": N_("badge %(card)s"),
    "helmet": N_("helmet %(no)s"),
    "no-token": N_("no such token"),
    "password-short": N_("at least 8 characters"),
    "birth-date-mismatch": N_("does not match the birth date in the resident id"),
    "document-other-name": N_(
        "a visitor with this identity document is already registered under another name; ask the safety office"
    ),
    "id-length": N_("a resident id has 18 characters, got %(n)s"),
    "id-digits": N_("the first 17 characters of a resident id must be digits"),
    "id-last": N_("the last character of a resident id must be a digit or X"),
    "id-date-invalid": N_("the birth date in the resident id is not a valid date (%(date)s)"),
    "id-date-impossible": N_("the birth date in the resident id is impossible (%(date)s)"),
    "id-check": N_("wrong check character: expected %(expected)s, got %(got)s"),
    "limit-range": N_("expected 1-%(max)s"),
    "month": N_("expected YYYY-MM"),
    "emergency-by": N_("name who or what raised the emergency"),
    "emergency-reason": N_("say why (fire, gas alarm, drill, ...)"),
    "not-inside": N_("person %(person)s is not recorded inside any zone"),
}


class Problem(str):
    """One problem in English (the string itself), with the code and parameters that say it
    in another language: ``Problem("card-issued", card="0A00") == "card 0A00 is already issued"``."""

    code: str
    params: dict[str, str]

    def __new__(cls, code: str, **params: object) -> Problem:
        str_params = {k: str(v) for k, v in params.items()}
        self = super().__new__(cls, PROBLEMS[code] % str_params)
        self.code, self.params = code, str_params
        return self

    def __reduce__(self) -> tuple[object, ...]:  # str's own pickling would drop code and params
        return _problem, (self.code, self.params)


def _problem(code: str, params: Mapping[str, str]) -> Problem:
    return Problem(code, **params)


class DomainError(Exception):
    """Base of every error a domain service raises on purpose. ``code`` and ``params`` come
    from a ``Problem`` message (empty for a plain English one)."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.code: str = getattr(message, "code", "")
        self.params: dict[str, str] = dict(getattr(message, "params", {}))


class NotFound(DomainError):
    """An id, card or number names nothing."""


class Conflict(DomainError):
    """The request clashes with the current state. ``items`` lists what is in the way,
    e.g. ``["badge 00A1B2C3D4", "helmet H-17"]`` still out at check-out (R12)."""

    def __init__(self, message: str, items: list[str] | None = None):
        super().__init__(message)
        self.items: list[str] = list(items or [])


class ValidationFailed(DomainError):
    """Input is malformed. ``fields`` holds ``(field, message)`` pairs, one per problem; a
    message is usually a ``Problem``."""

    def __init__(self, fields: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in fields))
        self.fields: list[tuple[str, str]] = list(fields)


class NotAllowed(DomainError):
    """The acting employee's role or department does not permit this (e.g. R5 approval)."""
