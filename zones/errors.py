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

from collections.abc import Mapping, Sequence


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
    # R10 custody: taking over visitors left unescorted
    "alert-closed": N_("the alert is already closed"),
    "not-custody-alert": N_("only an unescorted-visitors alert can be taken over (R10)"),
    "same-escort": N_("%(escort)s is the escort who left; another escort takes the visitors over (R10)"),
    "escort-off-duty": N_("%(escort)s is not on duty (R10)"),
    "escort-banned": N_("%(escort)s is banned until %(date)s and may not escort (R17)"),
    "night-escort": N_("night visit (%(night)s): %(escort)s is not from the dispatch room and may not escort (R14)"),
    "escort-full": N_("%(escort)s already has %(count)s visitors in charge; the limit is %(limit)s (R10)"),
    "hand-over": N_(
        "only the escort in charge, a safety officer of %(department)s or an admin may hand the visitors to another escort (R10)"
    ),
    "no-employee-card": N_("no active employee holds card %(card)s"),
    "form-not-pending": N_("the form is %(state)s, not pending"),
    "form-revoked": N_("the form is already revoked"),
    "approver": N_("R5: only the head or a safety officer of %(departments)s may approve entry to %(zones)s"),
    "visit-closed": N_("the visit is closed"),
    "login-taken": N_("%(login)s is already someone's sign-in name"),
    "no-open-visit": N_("the visitor has no open visit; book one first (R1)"),
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
    "password-short": N_("at least %(min)s characters"),
    "password-wrong": N_("the current password is wrong"),
    "no-such-user": N_("no user called %(name)s"),
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
    "emergency-end-reason": N_("%(missing)s still missing: say why the emergency ends anyway"),
    "incident-closed": N_("the incident is already closed"),
    "not-routed": N_("only %(department)s or a safety officer handles this (R21-R23)"),
    "complaint-state": N_("the complaint is %(state)s"),
    "no-such-complaint": N_("no complaint with id %(id)s to link to"),
    "signature-in-person": N_("a follow-up in person needs the person's signature (R23)"),
    "followed-up": N_("the complaint is already followed up"),
    "not-incident-person": N_("person %(person)s is not linked to this incident"),
    "ban-category": N_("only a person of a B incident is banned from it (R17, R21)"),
    "walk-in-category": N_("only a C inspector is given a walk-in exception from an incident (R1, R21)"),
    "promised-date": N_("the promised date is before today"),
    # the visit's chain of responsibility (issue 9: R5-R9, R13, R17)
    "no-escort": N_("name at least one escort (R10)"),
    "unknown-choice": N_("unknown %(given)s; expected some of %(choices)s"),
    "already-approved": N_("%(departments)s already approved this form"),
    "revoker": N_("R5: only the head or a safety officer of %(departments)s, or an admin, may revoke this form"),
    "unknown-department": N_("unknown department '%(department)s'"),
    "in-future": N_("must not be in the future (R6)"),
    "too-old": N_("education is recorded within %(days)s days of the fact (R6)"),
    "missing-topics": N_("every topic is required (R6); missing: %(topics)s"),
    "signature-required": N_("the visitor's signature is required (R7)"),
    "signature-too-large": N_("the signature image is larger than %(kb)s kB"),
    "educator-department": N_("R6: the educator belongs to %(actual)s, not %(department)s"),
    "zone-not-department": N_("R9: %(zones)s not of department %(department)s"),
    "prohibition-required": N_("a breach of R13 names the prohibition broken (1-7)"),
    "not-on-site": N_("person %(person)s is not on the muster list"),
    "not-own-visitor": N_("R16: escorts mark their own visitors; %(person)s is not yours"),
    "prohibition-r13-only": N_("only a breach of R13 names a prohibition"),
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

    def __init__(self, message: str, items: Sequence[str] | None = None):
        super().__init__(message)
        self.items: list[str] = list(items or [])


class ValidationFailed(DomainError):
    """Input is malformed. ``fields`` holds ``(field, message)`` pairs, one per problem; a
    message is usually a ``Problem``."""

    def __init__(self, fields: Sequence[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in fields))
        self.fields: list[tuple[str, str]] = list(fields)


class NotAllowed(DomainError):
    """The acting employee's role or department does not permit this (e.g. R5 approval)."""
