"""Site-wide state the web writes for the controllers: the emergency (R16), anti-passback
resets (R15), and the muster list (R16) of everyone on site, inside the gated zones or not,
with its "accounted for" marks (who marked each person, and when).

The muster is read with two Core selects of just the columns it shows (no ORM objects, no
per-row lookups): with 5,000 people on site it is on the evacuation's critical path, and
its pages poll it every 2 s (bench/muster_bench.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, func, select, update
from sqlalchemy.orm import Session

from zones.errors import NotAllowed, NotFound, Problem, ValidationFailed
from zones.schema import ContactForm, Event, Person, Presence, SiteState, Visit, Visitor
from zones.services._common import employee, record_change, require_role, utcnow
from zones.services.queries.visitors import own_visitor

_PERSONS = cast(Table, Person.__table__)
_PRESENCE = cast(Table, Presence.__table__)
_VISITS = cast(Table, Visit.__table__)


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
    Starting it needs a reason and clears the muster's accounted marks; an employee ending
    it while people are still missing must say why (the panel asks "end anyway?").

    Each call is recorded in the events table (kind "emergency", no gate) with who did it,
    the reason and how many were missing, so the journal says "emergency declared by
    zhao: fire" once, beside the per-gate rows the controllers ship when they follow."""
    by_id: int | None = None
    if isinstance(by, int):
        require_role(employee(session, by), ("safety_officer", "admin"), "the emergency button (R16)")
        by_id, source = by, f"employee:{by}"
    else:
        if not by.strip():
            raise ValidationFailed([("by", Problem("emergency-by"))])
        source = by.strip()
    reason = reason.strip()
    if active and not reason:
        raise ValidationFailed([("reason", Problem("emergency-reason"))])
    state = _site_state(session)
    missing = count_missing(session) if state.emergency_active else 0
    if not active and by_id is not None and missing and not reason:
        raise ValidationFailed([("reason", Problem("emergency-end-reason", missing=missing))])
    now = now or utcnow()
    if active and not state.emergency_active:
        state.emergency_since = now
        unmarked = {"accounted": False, "accounted_by": None, "accounted_at": None}
        session.execute(update(Presence).values(**unmarked))
        session.execute(update(Visit).where(Visit.state == "on-site").values(**unmarked))
        missing = count_missing(session)
    if active or state.emergency_active:  # ending an emergency that is not on records nothing
        detail = {"active": active, "by": by_id, "source": source, "reason": reason, "missing": missing}
        session.add(Event(key=f"site:emergency:{uuid.uuid4().hex}", at=now, kind="emergency", detail=detail))
    if not active:
        state.emergency_since = None
    state.emergency_active = active
    state.emergency_reason = reason or None
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
    by: int | None = None,
    escort_id: int | None = None,
    now: datetime | None = None,
) -> MusterRow:
    """R16: mark a person on the muster list as seen at the assembly point (``by``: the
    employee marking, shown as "marked by ... 06:53"): someone inside a zone, or a visitor
    on site outside the gated zones. ``escort_id`` limits the mark to that escort's own
    visitors (escorts mark their own; wardens mark anyone): NotAllowed otherwise."""
    now = now or utcnow()
    row = next(iter(_muster_rows(session, now, person_id)), None)
    if row is None:
        raise NotFound(Problem("not-on-site", person=person_id))
    if escort_id is not None and person_id not in escorts_own(session, [row], escort_id):
        raise NotAllowed(Problem("not-own-visitor", person=row.person.name))
    marked_at = now if accounted else None
    mark = {"accounted": accounted, "accounted_by": by if accounted else None, "accounted_at": marked_at}
    if row.zone is None:
        session.execute(update(_VISITS).where(_VISITS.c.id == row.visit_id).values(**mark))
    else:
        session.execute(update(_PRESENCE).where(_PRESENCE.c.person_id == person_id).values(**mark))
    marker = None
    if accounted and by is not None:
        marker = Who(by, session.scalar(select(_PERSONS.c.name).where(_PERSONS.c.id == by)) or "")
    session.commit()
    return row._replace(accounted=accounted, marked_by=marker, marked_at=marked_at)


def read_emergency(session: Session) -> SiteState:
    """The site's emergency state (R16)."""
    return _site_state(session)


# the muster's place for visitors checked in but not inside any gated zone (R16)
OUTSIDE_ZONES = None


class Who(NamedTuple):
    """A person as the muster names them; ``phone`` is personal (R20): pages mask it unless
    the viewer may see it (``Muster.phones_in_clear``)."""

    id: int
    name: str
    kind: str = "employee"
    phone: str | None = None


class MusterRow(NamedTuple):
    """One person on site: inside ``zone``, or on site outside the gated zones (``zone`` is
    None, visitors only, with their ``visit_id``). ``escort`` is the one in whose charge they
    entered the zone, or for a visitor outside the zones the escort of their form; ``host``
    the visitor's host; ``marked_by`` / ``marked_at`` who marked them accounted for, and when
    (None unless ``accounted``, and for marks made before migration 0006)."""

    zone: str | None
    person: Who
    escort: Who | None
    accounted: bool
    entered_at: datetime | None
    host: Who | None = None
    visit_id: int | None = None
    marked_by: Who | None = None
    marked_at: datetime | None = None

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

    def phones_in_clear(self, escort_id: int) -> set[int]:
        """R16 over R20: while an emergency is active, the escort of record of a visitor (the
        one they entered the zone with, or their form's escort) sees that visitor's phone in
        clear, to call them; every other phone stays masked for them, and all of them once
        the emergency is over."""
        if not self.emergency.emergency_active:
            return set()
        return {r.person.id for r in self.rows if r.person.kind == "visitor" and r.escort_id == escort_id}


def escorts_own(session: Session, rows: Iterable[MusterRow], escort_id: int) -> set[int]:
    """The person ids among ``rows`` an escort answers for at the muster (R16): those in
    their charge, and their own visitors (named on a form, or hosted)."""
    rows = list(rows)
    own = {r.person.id for r in rows if r.escort_id == escort_id}
    others = {r.person.id for r in rows if r.person.kind == "visitor"} - own  # own_visitor is about visitors
    if others:
        own |= set(
            session.scalars(select(Visitor.id).where(Visitor.id.in_(others), own_visitor(Visitor.id, escort_id)))
        )
    return own


def count_missing(session: Session) -> int:
    """How many on the muster list are not accounted for (one count per place)."""
    inside = select(func.count()).select_from(_PRESENCE).where(_PRESENCE.c.accounted.is_(False))
    outside = select(func.count()).select_from(_VISITS).where(*_outside_zones(), _VISITS.c.accounted.is_(False))
    return int(session.scalar(inside) or 0) + int(session.scalar(outside) or 0)


def _outside_zones() -> tuple[Any, ...]:
    """Visits on site whose visitor is not inside a gated zone."""
    return _VISITS.c.state == "on-site", _VISITS.c.visitor_id.not_in(select(_PRESENCE.c.person_id))


def _inside_select() -> Select[Any]:
    p, pr = _PERSONS, _PRESENCE
    return select(
        pr.c.zone,
        p.c.id,
        p.c.name,
        p.c.kind,
        p.c.phone,
        pr.c.escort_id,
        pr.c.accounted,
        pr.c.accounted_by,
        pr.c.accounted_at,
        pr.c.entered_at,
    ).select_from(pr.join(p, p.c.id == pr.c.person_id))


def _outside_select(now: datetime) -> Select[Any]:
    """The visitors on site outside the zones with their host and the escort of their form
    valid at ``now`` (zones.services.breaches.escort_in_charge, as one correlated subquery)."""
    v, p = _VISITS, _PERSONS
    form_escort = (
        select(ContactForm.escort_id)
        .where(
            ContactForm.visitor_id == v.c.visitor_id,
            ContactForm.state == "approved",
            ContactForm.valid_from <= now,
            ContactForm.valid_until >= now,
            ContactForm.escort_id.is_not(None),
        )
        .order_by(ContactForm.id.desc())
        .limit(1)
        .correlate(v)
        .scalar_subquery()
    )
    return (
        select(
            v.c.id,
            p.c.id,
            p.c.name,
            p.c.kind,
            p.c.phone,
            form_escort,
            v.c.accounted,
            v.c.accounted_by,
            v.c.accounted_at,
            v.c.arrived_at,
            v.c.host_id,
        )
        .select_from(v.join(p, p.c.id == v.c.visitor_id))
        .where(*_outside_zones())
    )


def _muster_rows(session: Session, now: datetime, person_id: int | None = None) -> list[MusterRow]:
    """The muster's rows, inside the zones by zone and name, then outside them by name; only
    ``person_id``'s if given. Three selects: the people inside, those outside, and the names
    of the few staff they refer to (escorts, hosts, markers), joined here rather than by
    three more joins on the whole persons table per row. Sorted here too, the same on
    SQLite and PostgreSQL (and no locale collation on the server's clock)."""
    inside, outside = _inside_select(), _outside_select(now)
    if person_id is not None:
        inside = inside.where(_PRESENCE.c.person_id == person_id)
        outside = outside.where(_VISITS.c.visitor_id == person_id)
    rows_in = session.execute(inside).all()  # fetchall: one call, not one per row
    rows_out = session.execute(outside).all()
    staff_ids = {r[5] for r in rows_in} | {r[7] for r in rows_in if r[6]}
    staff_ids |= {r[5] for r in rows_out} | {r[10] for r in rows_out} | {r[7] for r in rows_out if r[6]}
    staff_ids.discard(None)
    staff = {
        i: Who(i, name)
        for i, name in (
            session.execute(select(_PERSONS.c.id, _PERSONS.c.name).where(_PERSONS.c.id.in_(staff_ids))).all()
            if staff_ids
            else ()
        )
    }
    get = staff.get
    rows = [
        MusterRow(
            zone,
            Who(pid, name, kind, phone),
            get(esc_id) if esc_id is not None else None,
            bool(accounted),
            entered_at,
            marked_by=get(by) if accounted and by is not None else None,
            marked_at=at if accounted else None,
        )
        for zone, pid, name, kind, phone, esc_id, accounted, by, at, entered_at in rows_in
    ]
    rows.sort(key=lambda r: (r.zone or "", r.person.name))
    outside_rows = [
        MusterRow(
            OUTSIDE_ZONES,
            Who(pid, name, kind, phone),
            get(esc_id) if esc_id is not None else None,
            bool(accounted),
            arrived_at,
            get(host_id) if host_id is not None else None,
            visit_id,
            get(by) if accounted and by is not None else None,
            at if accounted else None,
        )
        for visit_id, pid, name, kind, phone, esc_id, accounted, by, at, arrived_at, host_id in rows_out
    ]
    outside_rows.sort(key=lambda r: r.person.name)
    return rows + outside_rows


def muster(session: Session, now: datetime | None = None) -> Muster:
    """Who is inside which zone with their escort, the visitors checked in but not inside a
    gated zone with their host and the escort of their form valid at ``now``, who marked
    each one accounted for, and the emergency (R16)."""
    return Muster(_site_state(session), _muster_rows(session, now or utcnow()))
