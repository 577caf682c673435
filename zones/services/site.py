"""Site-wide state the web writes for the controllers: the emergency (R16), anti-passback
resets (R15), and the muster list (R16) of everyone on site, inside the gated zones or not,
with its "accounted for" marks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zones.errors import NotAllowed, NotFound, Problem, ValidationFailed
from zones.schema import Employee, Person, Presence, SiteState, Visit, Visitor
from zones.services._common import employee, record_change, require_role, utcnow
from zones.services.breaches import escort_in_charge
from zones.services.queries.visitors import own_visitor


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
        session.execute(update(Visit).where(Visit.state == "on-site").values(accounted=False))
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


def mark_accounted(
    session: Session,
    person_id: int,
    accounted: bool = True,
    *,
    escort_id: int | None = None,
    now: datetime | None = None,
) -> MusterRow:
    """R16: mark a person on the muster list as seen at the assembly point: someone inside a
    zone, or a visitor on site outside the gated zones. ``escort_id`` limits the mark to that
    escort's own visitors (escorts mark their own; wardens mark anyone): NotAllowed otherwise."""
    row = next((r for r in muster(session, now).rows if r.person.id == person_id), None)
    if row is None:
        raise NotFound(Problem("not-on-site", person=person_id))
    if escort_id is not None and person_id not in escorts_own(session, [row], escort_id):
        raise NotAllowed(Problem("not-own-visitor", person=row.person.name))
    if row.zone is None:
        visit = session.get(Visit, row.visit_id)
        assert visit is not None
        visit.accounted = accounted
    else:
        presence = session.get(Presence, person_id)
        assert presence is not None
        presence.accounted = accounted
    session.commit()
    return row._replace(accounted=accounted)


def read_emergency(session: Session) -> SiteState:
    """The site's emergency state (R16)."""
    return _site_state(session)


# the muster's place for visitors checked in but not inside any gated zone (R16)
OUTSIDE_ZONES = None


class MusterRow(NamedTuple):
    """One person on site: inside ``zone``, or on site outside the gated zones (``zone`` is
    None, visitors only, with their ``visit_id``). ``escort`` is the one in whose charge they
    entered the zone, or for a visitor outside the zones the escort of their form; ``host``
    the visitor's host."""

    zone: str | None
    person: Person
    escort: Employee | None
    accounted: bool
    entered_at: datetime | None
    host: Employee | None = None
    visit_id: int | None = None

    @property
    def escort_id(self) -> int | None:
        return self.escort.id if self.escort else None


@dataclass(frozen=True)
class Muster:
    """The muster list (R16): everyone inside a zone, by zone then name, then the visitors on
    site outside the gated zones, and the site's emergency state."""

    emergency: SiteState
    rows: list[MusterRow]

    @property
    def missing(self) -> list[MusterRow]:
        """Those not yet accounted for at the assembly point."""
        return [r for r in self.rows if not r.accounted]

    def missing_first(self) -> list[MusterRow]:
        """Every row, the missing first (that is who an escort is looking for), then by zone
        (outside the zones last) and name."""
        return sorted(self.rows, key=lambda r: (r.accounted, r.zone is None, r.zone or "", r.person.name))

    def by_zone(self, zones: Iterable[str] = ()) -> dict[str | None, list[MusterRow]]:
        """Zone id -> its rows; ``zones`` are listed first, even when nobody is inside; the
        visitors outside the gated zones come last under ``OUTSIDE_ZONES`` (when there are any)."""
        out: dict[str | None, list[MusterRow]] = {z: [] for z in zones}
        for row in self.rows:
            if row.zone is not None:
                out.setdefault(row.zone, []).append(row)
        outside = [r for r in self.rows if r.zone is None]
        if outside:
            out[OUTSIDE_ZONES] = outside
        return out


def escorts_own(session: Session, rows: Iterable[MusterRow], escort_id: int) -> set[int]:
    """The person ids among ``rows`` an escort answers for at the muster (R16): those in
    their charge, and their own visitors (named on a form, or hosted)."""
    rows = list(rows)
    own = {r.person.id for r in rows if r.escort_id == escort_id}
    others = {r.person.id for r in rows} - own
    if others:
        own |= set(
            session.scalars(select(Visitor.id).where(Visitor.id.in_(others), own_visitor(Visitor.id, escort_id)))
        )
    return own


def muster(session: Session, now: datetime | None = None) -> Muster:
    """Who is inside which zone with their escort, the visitors checked in but not inside a
    gated zone with their host and the escort of their form valid at ``now``, and the
    emergency (R16)."""
    inside = session.execute(
        select(Presence, Person).join(Person, Person.id == Presence.person_id).order_by(Presence.zone, Person.name)
    ).all()
    outside = session.execute(
        select(Visit, Visitor)
        .join(Visitor, Visitor.id == Visit.visitor_id)
        .where(Visit.state == "on-site", Visit.visitor_id.not_in(select(Presence.person_id)))
        .order_by(Visitor.name)
    ).all()
    now = now or utcnow()
    form_escort = {v.visitor_id: escort_in_charge(session, v.visitor_id, now) for v, _ in outside}
    wanted = {p.escort_id for p, _ in inside} | set(form_escort.values()) | {v.host_id for v, _ in outside}
    staff = {e.id: e for e in session.scalars(select(Employee).where(Employee.id.in_(wanted - {None})))}
    rows = [
        MusterRow(p.zone, person, staff.get(p.escort_id) if p.escort_id else None, p.accounted, p.entered_at)
        for p, person in inside
    ]
    for visit, visitor in outside:
        escort_id = form_escort[visit.visitor_id]
        rows.append(
            MusterRow(
                OUTSIDE_ZONES,
                visitor,
                staff.get(escort_id) if escort_id else None,
                visit.accounted,
                visit.arrived_at,
                staff.get(visit.host_id),
                visit.id,
            )
        )
    return Muster(_site_state(session), rows)
