"""The controller's in-memory view of the central database: card -> PersonFacts.

A controller decides from this snapshot only (design.md: the decision never waits on the
database). ``build_snapshot`` reads everything with a handful of bulk column queries;
``refresh_snapshot`` rebuilds only the persons named in the change sequence since the last
build. Built to hold 2,000,000 cardholders in under 1 GiB: no ORM objects per row, shared
frozensets / dates / fact objects, and phone numbers left out (the gates never need them,
R20). Everything that may alter a decision adds a ``changes`` row, so nothing is missed.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from zones.central import current_change_no, read_site_state
from zones.facts import EMPTY, BanFact, EducationFact, FormFact, PersonFacts, VisitFact
from zones.schema import (
    Badge,
    Ban,
    Change,
    ContactForm,
    ContactFormZone,
    Education,
    Employee,
    EmployeeAccessZone,
    EmployeeEscortZone,
    Helmet,
    Person,
    Presence,
    Visit,
    Visitor,
)

K = TypeVar("K")
_BATCH = 2_000
_MAX_PARTIAL = 5_000            # more changed persons than this: a full rebuild is cheaper
_NO_PERSON_REBUILD = {"presence", "emergency"}   # reloaded on every refresh anyway


@dataclass
class PresenceFact:
    """Where a person is now (R15 anti-passback and occupancy, R16 muster)."""

    person_id: int
    zone: str
    entered_at: datetime
    escort_id: int | None
    kind: str


@dataclass
class Snapshot:
    """What a controller knows. ``by_card`` includes lost visitor badges (badge="lost") so a
    lost card is denied as lost (R3). ``lost_cards`` maps a person to their lost cards (used
    by refresh to drop stale entries)."""

    change_no: int
    built_at: datetime
    by_card: dict[str, PersonFacts]
    by_id: dict[int, PersonFacts]
    presence: dict[int, PresenceFact]
    emergency: bool
    emergency_since: datetime | None
    lost_cards: dict[int, tuple[str, ...]] = field(default_factory=dict)


class _Interner:
    """Returns one shared instance per distinct value (frozensets, dates, facts)."""

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {(): (), EMPTY: EMPTY}
        self._zone_text: dict[str | None, frozenset[str]] = {None: EMPTY, "": EMPTY}
        self._days: dict[Any, date] = {}
        self._moments: dict[Any, datetime] = {}
        self._numbers: dict[int, int] = {}

    def __call__(self, value: K) -> K:
        return self._seen.setdefault(value, value)

    def day(self, value: Any) -> date | None:
        """A date from the driver (SQLite: ISO text), one shared object per distinct day."""
        if value is None:
            return None
        got = self._days.get(value)
        if got is None:
            got = self._days[value] = date.fromisoformat(value) if isinstance(value, str) else value
        return got

    def moment(self, value: Any) -> datetime | None:
        """An aware UTC datetime from the driver (SQLite stores naive UTC text, zones.db),
        shared between equal values."""
        if value is None:
            return None
        got = self._moments.get(value)
        if got is None:
            if isinstance(value, str):
                got = datetime.fromisoformat(value).replace(tzinfo=UTC)
            else:
                got = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
            self._moments[value] = got
        return got

    def number(self, value: int | None) -> int | None:
        """Employee ids repeat across visitors (host, escort): one int object each."""
        if value is None:
            return None
        return self._numbers.setdefault(value, value)

    def fact(self, cls: type[K], values: tuple[Any, ...]) -> K:
        """One shared ``cls(*values)`` per distinct values (hashing a tuple is cheap,
        hashing a frozen dataclass is not)."""
        key = (cls, *values)
        got = self._seen.get(key)
        if got is None:
            got = self._seen[key] = cls(*values)
        return got  # type: ignore[no-any-return]

    def zones(self, joined: str | None) -> frozenset[str]:
        """A frozenset from a comma-joined aggregate, shared between equal sets."""
        got = self._zone_text.get(joined)
        if got is None:
            got = self(frozenset(joined.split(",")))  # type: ignore[union-attr]
            self._zone_text[joined] = got
        return got


def _zone_agg(session: Session, owner: Any, zone: Any, only: ColumnElement[bool] | None = None) -> Any:
    """``owner -> "z1,z2"`` as a subquery (filtered by ``only`` for a partial rebuild, so the
    database does not aggregate every row to refresh one person)."""
    agg = func.string_agg(zone, ",") if session.get_bind().dialect.name == "postgresql" else func.group_concat(zone, ",")
    return _where(select(owner.label("owner"), agg.label("zones")), only).group_by(owner).subquery()


def _rows(session: Session, stmt: Select[Any]) -> Iterator[tuple[Any, ...]]:
    """Raw driver tuples in batches, skipping SQLAlchemy's per-row work (a full build reads
    millions of rows). The statement is rendered with literal values (only fixed strings,
    dates and integer ids); dates and times come back as the driver gives them and are
    converted by ``_Interner.day`` / ``_Interner.moment``. PostgreSQL streams through a
    server-side cursor."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True, "render_postcompile": True}))
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        _rows.counter += 1  # type: ignore[attr-defined]
        cur = raw.cursor(name=f"sitegate_snapshot_{_rows.counter}")  # type: ignore[attr-defined]
        sql = sql.replace("%%", "%")   # rendered for a driver that would substitute parameters
    else:
        cur = raw.cursor()
    try:
        cur.execute(sql)
        while batch := cur.fetchmany(_BATCH):
            yield from batch
    finally:
        cur.close()


_rows.counter = 0  # type: ignore[attr-defined]


def _only(ids: set[int] | None, column: Any) -> ColumnElement[bool] | None:
    return None if ids is None else column.in_(ids)


def _where(stmt: Select[Any], cond: ColumnElement[bool] | None) -> Select[Any]:
    return stmt if cond is None else stmt.where(cond)


class _Merge:
    """Rows of a stream ordered by person id, handed out person by person (a merge join:
    no per-person dictionary of side facts is ever built)."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]):
        self._rows = rows
        self._row = next(rows, None)

    def take(self, pid: int) -> list[tuple[Any, ...]]:
        out = []
        row = self._row
        while row is not None and row[0] <= pid:
            if row[0] == pid:
                out.append(row)
            row = next(self._rows, None)
        self._row = row
        return out

    def close(self) -> None:
        self._rows.close()  # type: ignore[attr-defined]


def _persons(session: Session, today: date, ids: set[int] | None, intern: _Interner) -> tuple[
        dict[int, PersonFacts], dict[int, tuple[str, ...]]]:
    """PersonFacts by id for everyone (ids None) or for ``ids``; and lost cards by person."""
    cutoff = datetime.combine(today - timedelta(days=1), time(0), UTC)   # site tz margin
    facts: dict[int, PersonFacts] = {}

    # small side facts (a few per person on site at most): dictionaries
    bans: dict[int, list[BanFact]] = {}
    for pid, until, reason in _rows(session, _where(select(Ban.person_id, Ban.until, Ban.reason)
                                                    .where(Ban.until >= today), _only(ids, Ban.person_id))):
        bans.setdefault(pid, []).append(intern.fact(BanFact, (intern.day(until), reason)))
    helmets = dict(_rows(session, _where(select(Helmet.visitor_id, Helmet.helmet_no).where(Helmet.returned_at.is_(None)),
                                         _only(ids, Helmet.visitor_id))))
    lost: dict[int, list[str]] = {}
    for pid, card in _rows(session, _where(select(Badge.visitor_id, Badge.card).where(Badge.state == "lost")
                                           .order_by(Badge.id), _only(ids, Badge.visitor_id))):
        lost.setdefault(pid, []).append(card)

    # employees: one row each, their zones aggregated into comma-joined text
    esc = _zone_agg(session, EmployeeEscortZone.employee_id, EmployeeEscortZone.zone,
                    _only(ids, EmployeeEscortZone.employee_id))
    acc = _zone_agg(session, EmployeeAccessZone.employee_id, EmployeeAccessZone.zone,
                    _only(ids, EmployeeAccessZone.employee_id))
    stmt = (select(Employee.id, Employee.name, Employee.card, Employee.department, Employee.on_duty,
                   Employee.dispatch_room, esc.c.zones, acc.c.zones)
            .outerjoin(esc, esc.c.owner == Employee.id).outerjoin(acc, acc.c.owner == Employee.id)
            .where(Employee.active.is_(True)))
    for pid, name, card, dept, on_duty, dispatch, escort_z, access_z in _rows(session, _where(stmt, _only(ids, Employee.id))):
        facts[pid] = PersonFacts(
            person_id=pid, kind="employee", name=name, card=card, badge="active" if card else "none",
            department=intern(dept), access_zones=intern.zones(access_z), escort_zones=intern.zones(escort_z),
            on_duty=bool(on_duty), dispatch_room=bool(dispatch), bans=tuple(bans.get(pid, ())))

    # visitors: forms and education merge-joined by visitor id with one row per visitor
    form_zones = _zone_agg(session, ContactFormZone.form_id, ContactFormZone.zone, None if ids is None else
                           ContactFormZone.form_id.in_(select(ContactForm.id).where(ContactForm.visitor_id.in_(ids))))
    forms = _Merge(_rows(session, _where(
        select(ContactForm.visitor_id, ContactForm.id, form_zones.c.zones, ContactForm.valid_from,
               ContactForm.valid_until, ContactForm.escort_id, ContactForm.outside_hours)
        .join(form_zones, form_zones.c.owner == ContactForm.id)
        .where(ContactForm.state == "approved", ContactForm.valid_until >= cutoff)
        .order_by(ContactForm.visitor_id, ContactForm.id), _only(ids, ContactForm.visitor_id))))
    education = _Merge(_rows(session, _where(
        select(Education.visitor_id, Education.department, Education.delivered_on, Education.notification_signed,
               Education.method).where(Education.valid_until >= today).order_by(Education.visitor_id, Education.id),
        _only(ids, Education.visitor_id))))
    active = aliased(Badge, name="active_badge")   # the one active badge (R3)
    stmt = (select(Visitor.id, Visitor.name, Visitor.birth_date, active.card, Visit.id, Visit.state,
                   Visit.booked_ahead, Visit.walk_in_approved_by, Visit.host_id)
            .outerjoin(active, and_(active.visitor_id == Visitor.id, active.state == "active"))
            .outerjoin(Visit, and_(Visit.visitor_id == Visitor.id, Visit.state != "closed"))
            .where(or_(active.id.is_not(None), Visit.id.is_not(None),
                       Visitor.id.in_(select(Badge.visitor_id).where(Badge.state == "lost"))))
            .order_by(Visitor.id, Visit.id))
    last_pid, form_facts, edu_facts = -1, (), ()
    try:
        for pid, name, birth, card, visit_id, state, ahead, walk_in_by, host in _rows(
                session, _where(stmt, _only(ids, Visitor.id))):
            if pid != last_pid:   # a second open visit (should not happen) reuses the same facts
                last_pid = pid
                form_facts = tuple(FormFact(r[1], intern.zones(r[2]), intern.moment(r[3]), intern.moment(r[4]),
                                            intern.number(r[5]), bool(r[6])) for r in forms.take(pid))
                edu_facts = intern(tuple(intern.fact(EducationFact, (r[1], intern.day(r[2]), bool(r[3]), r[4]))
                                         for r in education.take(pid)))
            badge = "active"
            if card is None and pid in lost:
                card, badge = lost[pid][-1], "lost"
            elif card is None:
                badge = "none"
            facts[pid] = PersonFacts(
                person_id=pid, kind="visitor", name=name, card=card, badge=badge,  # type: ignore[arg-type]
                birth_date=intern.day(birth),
                visit=None if visit_id is None else VisitFact(
                    visit_id, intern(state), bool(ahead), walk_in_by is not None, intern.number(host)),
                forms=form_facts, education=edu_facts,
                helmet_no=helmets.get(pid), bans=tuple(bans.get(pid, ())))
    finally:
        forms.close()
        education.close()
    return facts, {pid: tuple(cards) for pid, cards in lost.items()}


def _presence(session: Session) -> dict[int, PresenceFact]:
    rows = session.execute(select(Presence.person_id, Presence.zone, Presence.entered_at, Presence.escort_id,
                                  Person.kind).join(Person, Person.id == Presence.person_id))
    return {r[0]: PresenceFact(person_id=r[0], zone=r[1], entered_at=r[2], escort_id=r[3], kind=r[4]) for r in rows}


def _index_cards(by_card: dict[str, PersonFacts], facts: dict[int, PersonFacts],
                 lost_cards: dict[int, tuple[str, ...]]) -> None:
    """Active cards win over lost ones: a found card may be issued again (R3)."""
    for f in facts.values():
        if f.card is not None and f.badge == "active":
            by_card[f.card] = f
    for pid, cards in lost_cards.items():
        f = facts.get(pid)
        if f is None:
            continue
        for card in cards:
            held = by_card.get(card)
            if held is None or held.badge != "active":
                by_card[card] = f if f.card == card else replace(f, card=card, badge="lost")


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of fact objects are made, then
    move everything alive into the permanent generation (gc.freeze).

    Without this, the build rescans all of them every few thousand allocations, and the
    first full collection after it walks every fact: seconds during which no gate decides.
    Facts are acyclic, so reference counting still frees an old snapshot's objects.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _return_freed_memory() -> None:
    """Give the C heap's free pages back to the OS after a full build (glibc only): the
    database driver's sort buffers are freed but otherwise stay in the process's RSS."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def build_snapshot(session: Session, today: date) -> Snapshot:
    """Everything a controller needs, read in a few bulk queries. ``today`` is the site-local
    date (bans, education and forms that ended before it are left out)."""
    change_no = current_change_no(session)   # read first: the data is at least this new
    with _no_gc():
        facts, lost_cards = _persons(session, today, None, _Interner())
    by_card: dict[str, PersonFacts] = {}
    _index_cards(by_card, facts, lost_cards)
    _return_freed_memory()
    state = read_site_state(session)
    return Snapshot(change_no=change_no, built_at=datetime.now(UTC), by_card=by_card, by_id=facts,
                    presence=_presence(session), emergency=state.emergency_active,
                    emergency_since=state.emergency_since, lost_cards=lost_cards)


def refresh_snapshot(session: Session, snap: Snapshot, today: date) -> Snapshot:
    """``snap`` itself when the change sequence has not moved; otherwise a new Snapshot with
    the persons named in the new changes rebuilt (everyone when a change names nobody),
    presence and emergency reloaded. Unchanged PersonFacts are shared with ``snap``."""
    change_no = current_change_no(session)
    if change_no == snap.change_no:
        return snap
    rows = session.execute(select(Change.person_id, Change.what).where(Change.no > snap.change_no)).all()
    if any(pid is None and what not in _NO_PERSON_REBUILD for pid, what in rows) or snap.change_no < 0:
        return build_snapshot(session, today)
    ids = {pid for pid, what in rows if pid is not None and what not in _NO_PERSON_REBUILD}
    if len(ids) > _MAX_PARTIAL:
        return build_snapshot(session, today)
    by_card, by_id, lost_cards = snap.by_card, snap.by_id, snap.lost_cards
    if ids:
        by_card, by_id, lost_cards = dict(by_card), dict(by_id), dict(lost_cards)
        for pid in ids:
            old = by_id.pop(pid, None)
            for card in ((old.card,) if old and old.card else ()) + lost_cards.pop(pid, ()):
                if (held := by_card.get(card)) is not None and held.person_id == pid:
                    del by_card[card]
        with _no_gc():
            facts, new_lost = _persons(session, today, ids, _Interner())
        by_id.update(facts)
        lost_cards.update(new_lost)
        _index_cards(by_card, facts, new_lost)
    state = read_site_state(session)
    return Snapshot(change_no=change_no, built_at=datetime.now(UTC), by_card=by_card, by_id=by_id,
                    presence=_presence(session), emergency=state.emergency_active,
                    emergency_since=state.emergency_since, lost_cards=lost_cards)
