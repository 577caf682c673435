"""Queries about breaches and bans (R17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.schema import Ban, Breach
from zones.services.queries.people import names


@dataclass
class BreachRow:
    breach: Breach
    person: str
    seen_by: str


def breaches(session: Session, *, limit: int = 200) -> list[BreachRow]:
    """The latest breaches, newest first, with who broke the rule and who saw it."""
    rows = list(session.scalars(select(Breach).order_by(Breach.at.desc()).limit(limit)))
    who = names(session, {b.person_id for b in rows} | {b.seen_by for b in rows})
    return [BreachRow(b, who.get(b.person_id, "?"), who.get(b.seen_by, "?")) for b in rows]


def active_bans(session: Session, today: date) -> list[tuple[Ban, str]]:
    """Bans still running on ``today`` (site date), ending soonest first, with the name."""
    rows = list(session.scalars(select(Ban).where(Ban.until >= today).order_by(Ban.until)))
    who = names(session, {b.person_id for b in rows})
    return [(b, who.get(b.person_id, "?")) for b in rows]
