"""Domain errors raised by zones.services. The web maps them to HTTP status codes
(NotFound 404, Conflict 409, ValidationFailed 422, NotAllowed 403); the CLI prints them."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a domain service raises on purpose."""


class NotFound(DomainError):
    """An id, card or number names nothing."""


class Conflict(DomainError):
    """The request clashes with the current state. ``items`` lists what is in the way,
    e.g. ``["badge 00A1B2C3D4", "helmet H-17"]`` still out at check-out (R12)."""

    def __init__(self, message: str, items: list[str] | None = None):
        super().__init__(message)
        self.items: list[str] = list(items or [])


class ValidationFailed(DomainError):
    """Input is malformed. ``fields`` holds ``(field, message)`` pairs, one per problem."""

    def __init__(self, fields: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in fields))
        self.fields: list[tuple[str, str]] = list(fields)


class NotAllowed(DomainError):
    """The acting employee's role or department does not permit this (e.g. R5 approval)."""
