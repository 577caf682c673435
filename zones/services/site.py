"""Site-wide state the web writes for the controllers: the emergency (R16), anti-passback
resets (R15), and the muster list (R16) with its "accounted for" marks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zones.errors import NotFound, Problem, ValidationFailed
from zones.schema import Employee, Person, Presence, SiteState
from zones.services._common import employee, record_change, require_role, utcnow


def _site_state(session: Session) -> SiteState:
    state = session.get(SiteState, 1)
    if state is None:  # the migration inserts it; recreate if someone removed it
        state = SiteState(id=1, emergency_active=False)
        session.add(state)
    return state


def set_emergency(
    session: Session,
    active: bool,
    reason: str,
    by: int | str,
    *,
    now: datetime | None = None,
) -> SiteState:
    """Start or end the site emergency (R16). ``by`` is a safety officer's or admin's
    employee id (the panel button) or a source name such as ``"alarm:smelting-east"``.
    Starting it clears the muster's accounted marks."""
    if isinstance(by, int):
        require_role(employee(session, by), ("safety_officer", "admin"), "the emergency button (R16)")
        source = f"employee:{by}"
    else:
        if not by.strip():
            raise ValidationFailed([("by", Problem("emergency-by"))])
        source = by.strip()
    if active and not reason.strip():
        raise ValidationFailed([("reason", Problem("emergency-reason"))])
    state = _site_state(session)
    now = now or utcnow()
    if active and not state.emergency_active:
        state.emergency_since = now
        session.execute(update(Presence).values(accounted=False))
    if not active:
        state.emergency_since = None
    state.emergency_active = active
    state.emergency_reason = reason.strip() or None
    state.emergency_source = source
    record_change(session, None, "emergency", now)
    session.commit()
    return state


def reset_passback(session: Session, person_id: int, zone: str, by: int) -> bool:
    """R15: a safety officer clears a person's "inside" record for ``zone`` so they may
    enter again. Returns whether there was a record to clear."""
    require_role(employee(session, by), ("safety_officer", "admin"), "an anti-passback reset (R15)")
    if session.get(Person, person_id) is None:
        raise NotFound(Problem("no-such", what="person", id=person_id))
    row = session.scalar(select(Presence).where(Presence.person_id == person_id, Presence.zone == zone))
    if row is not None:
        session.delete(row)
    record_change(session, person_id, "presence")
    session.commit()
    return row is not None


def mark_accounted(session: Session, person_id: int, accounted: bool = True) -> Presence:
    """R16: mark a person on the muster list as seen at the assembly point."""
    row = session.get(Presence, person_id)
    if row is None:
        raise NotFound(Problem("not-inside", person=person_id))
    row.accounted = accounted
    session.commit()
    return row


def read_emergency(session: Session) -> SiteState:
    """The site's emergency state (R16)."""
    return _site_state(session)


class MusterRow(NamedTuple):
    """One person inside a zone, with the escort in whose charge they entered (if any)."""

    presence: Presence
    person: Person
    escort: Employee | None


@dataclass(frozen=True)
class Muster:
    """The muster list (R16): everyone recorded inside a zone, by zone then name, and the
    site's emergency state."""

    emergency: SiteState
    rows: list[MusterRow]

    @property
    def missing(self) -> list[MusterRow]:
        """Those not yet accounted for at the assembly point."""
        return [r for r in self.rows if not r.presence.accounted]

    def missing_first(self) -> list[MusterRow]:
        """Every row, the missing first (that is who an escort is looking for), then by zone
        and name."""
        return sorted(self.rows, key=lambda r: (r.presence.accounted, r.presence.zone, r.person.name))

    def by_zone(self, zones: Iterable[str] = ()) -> dict[str, list[MusterRow]]:
        """Zone id -> its rows; ``zones`` are listed first, even when nobody is inside."""
        out: dict[str, list[MusterRow]] = {z: [] for z in zones}
        for row in self.rows:
            out.setdefault(row.presence.zone, []).append(row)
        return out


def muster(session: Session) -> Muster:
    """Who is inside which zone with their escort, and the emergency (R16)."""
    rows = session.execute(
        select(Presence, Person).join(Person, Person.id == Presence.person_id).order_by(Presence.zone, Person.name)
    ).all()
    escorts = {
        e.id: e
        for e in session.scalars(select(Employee).where(Employee.id.in_({p.escort_id for p, _ in rows if p.escort_id})))
    }
    return Muster(
        _site_state(session),
        [MusterRow(p, person, escorts.get(p.escort_id) if p.escort_id else None) for p, person in rows],
    )
