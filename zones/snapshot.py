"""The controller's in-memory view of the central database: card -> PersonFacts.

A controller decides from this snapshot only (design.md: the decision never waits on the
database). ``build_snapshot`` reads everything with a handful of bulk column queries;
``refresh_snapshot`` rebuilds only the persons named in the change sequence since the last
build. Built for millions of cardholders (see bench/snapshot_bench.py): no ORM objects per row, shared
frozensets / dates / fact objects, and phone numbers left out (the gates never need them,
R20). Everything that may alter a decision adds a ``changes`` row, so nothing is missed.

The card and person maps are persistent (``immutables.Map``, a hash array mapped trie): a
refresh derives the next map from the last by touching only the changed persons' paths, so
its cost follows the changes (100 changes at 2,000,000 cardholders: a few ms), never the
site, and the gates go on reading the old map, without locks, until the new snapshot is
swapped in whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from immutables import Map
from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session, aliased

from zones.bulk import (
    Interner,
    Merge,
    bind_ids,
    fetch,
    fetch_many,
    no_gc,
    only,
    param,
    render,
    return_freed_memory,
    rows,
    where,
    zone_agg,
)
from zones.central import current_change_no, read_site_state
from zones.facts import BanFact, EducationFact, EscortOfRecord, FormFact, PersonFacts, VisitFact
from zones.schema import (
    Badge,
    Ban,
    ContactForm,
    ContactFormEscort,
    ContactFormZone,
    Education,
    Employee,
    EmployeeAccessZone,
    EmployeeEscortZone,
    Helmet,
    Incident,
    IncidentPerson,
    Person,
    Presence,
    Visit,
    Visitor,
)

K = TypeVar("K")
V = TypeVar("V")
_MAX_PARTIAL = 5_000  # more changed persons than this: a full rebuild is cheaper
_NO_PERSON_REBUILD = {"presence", "emergency"}  # reloaded on every refresh anyway


@dataclass(frozen=True)
class PresenceFact:
    """Where a person is now (R15 anti-passback and occupancy, R10 escort charge, R16
    muster): built here from the central presence table, and by the controller for the
    passages it journalled but the centre has not confirmed yet. Not slotted: snapshot
    caches already on disk hold it pickled with its ``__dict__``."""

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
    by_card: Mapping[str, PersonFacts]
    by_id: Mapping[int, PersonFacts]
    presence: dict[int, PresenceFact]
    emergency: bool
    emergency_since: datetime | None
    lost_cards: Mapping[int, tuple[str, ...]] = field(default_factory=dict)


def _queries(dialect: str, today: date, partial: bool) -> dict[str, Any]:
    """The statements a snapshot is read with: for everyone, or (``partial``) for the
    persons whose ids are bound at execution (``zones.bulk.only``, ``bind_ids``). One definition for both,
    so a refresh and a full build cannot disagree."""
    cutoff = datetime.combine(today - timedelta(days=1), time(0), UTC)  # site tz margin
    q: dict[str, Any] = {}
    q["bans"] = where(
        select(Ban.person_id, Ban.until, Ban.reason).where(Ban.until >= today), only(partial, Ban.person_id)
    )
    q["helmets"] = where(
        select(Helmet.visitor_id).where(Helmet.returned_at.is_(None)), only(partial, Helmet.visitor_id)
    )
    q["held"] = where(  # R21: people of open A/B incidents
        select(IncidentPerson.person_id)
        .join(Incident, Incident.id == IncidentPerson.incident_id)
        .where(Incident.state == "open", Incident.category.in_(("A", "B")), IncidentPerson.person_id.is_not(None)),
        only(partial, IncidentPerson.person_id),
    )
    q["lost"] = where(
        select(Badge.visitor_id, Badge.card).where(Badge.state == "lost").order_by(Badge.id),
        only(partial, Badge.visitor_id),
    )

    # employees: one row each, their zones aggregated into comma-joined text
    esc = zone_agg(
        dialect, EmployeeEscortZone.employee_id, EmployeeEscortZone.zone, only(partial, EmployeeEscortZone.employee_id)
    )
    acc = zone_agg(
        dialect, EmployeeAccessZone.employee_id, EmployeeAccessZone.zone, only(partial, EmployeeAccessZone.employee_id)
    )
    q["employees"] = where(
        select(
            Employee.id,
            Employee.name,
            Employee.card,
            Employee.department,
            Employee.on_duty,
            Employee.dispatch_room,
            esc.c.zones,
            acc.c.zones,
        )
        .outerjoin(esc, esc.c.owner == Employee.id)
        .outerjoin(acc, acc.c.owner == Employee.id)
        .where(Employee.active.is_(True)),
        only(partial, Employee.id),
    )

    # visitors: forms and education merge-joined by visitor id with one row per visitor
    their_forms = only(partial, ContactForm.visitor_id)
    form_ids = None if their_forms is None else select(ContactForm.id).where(their_forms)
    form_zones = zone_agg(
        dialect,
        ContactFormZone.form_id,
        ContactFormZone.zone,
        None if form_ids is None else ContactFormZone.form_id.in_(form_ids),
    )
    # Names of the escorts of record: of everyone's forms, or (a refresh) of these visitors'
    # forms only, so that a refresh does not read every employee.
    q["escort_names"] = where(
        select(Person.id, Person.name).where(Person.kind == "employee"),
        None
        if form_ids is None
        else Person.id.in_(
            select(ContactFormEscort.employee_id)
            .join(ContactForm, ContactForm.id == ContactFormEscort.form_id)
            .where(only(partial, ContactForm.visitor_id))  # type: ignore[arg-type]
        ),
    )
    form_escorts = zone_agg(
        dialect,
        ContactFormEscort.form_id,
        cast(ContactFormEscort.employee_id, String),
        None if form_ids is None else ContactFormEscort.form_id.in_(form_ids),
    )
    q["forms"] = where(
        select(
            ContactForm.visitor_id,
            ContactForm.id,
            form_zones.c.zones,
            ContactForm.valid_from,
            ContactForm.valid_until,
            form_escorts.c.zones,
            ContactForm.outside_hours,
        )
        .join(form_zones, form_zones.c.owner == ContactForm.id)
        .outerjoin(form_escorts, form_escorts.c.owner == ContactForm.id)
        .where(ContactForm.state == "approved", ContactForm.valid_until >= cutoff)
        .order_by(ContactForm.visitor_id, ContactForm.id),
        their_forms,
    )
    q["education"] = where(
        select(
            Education.visitor_id,
            Education.department,
            Education.delivered_on,
            Education.notification_signed,
            Education.method,
            Education.zones,
            Education.delivered_at,
        )
        .where(Education.valid_until >= today)
        .order_by(Education.visitor_id, Education.id),
        only(partial, Education.visitor_id),
    )
    active = aliased(Badge, name="active_badge")  # the one active badge (R3)
    lost_badge = select(Badge.visitor_id).where(Badge.state == "lost")
    q["visitors"] = where(
        select(
            Visitor.id,
            Visitor.name,
            Visitor.birth_date,
            active.card,
            Visit.id,
            Visit.state,
            Visit.booked_ahead,
            Visit.walk_in_approved_by,
            Visit.host_id,
        )
        .outerjoin(active, and_(active.visitor_id == Visitor.id, active.state == "active"))
        .outerjoin(Visit, and_(Visit.visitor_id == Visitor.id, Visit.state != "closed"))
        .where(
            or_(
                active.id.is_not(None),
                Visit.id.is_not(None),
                # a refresh asks only for these persons' lost badges, not every lost badge
                Visitor.id.in_(where(lost_badge, only(partial, Badge.visitor_id))),
            )
        )
        .order_by(Visitor.id, Visit.id),
        only(partial, Visitor.id),
    )
    return q


_partial_sql: dict[tuple[str, date], dict[str, str]] = {}


def _rendered_partial(session: Session, today: date) -> dict[str, str]:
    """The partial statements as SQL text for this database and day, rendered once (the
    day's date is a literal in them); a refresh then costs its round trips only."""
    dialect = session.get_bind().dialect.name
    got = _partial_sql.get((dialect, today))
    if got is None:
        got = {name: render(session, stmt) for name, stmt in _queries(dialect, today, True).items()}
        got["presence"] = render(session, _presence_stmt(True))
        _partial_sql.clear()  # yesterday's
        _partial_sql[(dialect, today)] = got
    return got


_PERSON_QUERIES = ("bans", "helmets", "held", "lost", "employees", "escort_names", "forms", "education", "visitors")


def _fetch_partial(
    session: Session, today: date, wanted: dict[str, set[int]], more: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the partial queries named in ``wanted`` (each for its ids) and of
    ``more``, in one round trip (``fetch_many``)."""
    dialect = session.get_bind().dialect.name
    sql = _rendered_partial(session, today)
    queries = {name: bind_ids(dialect, sql[name], ids) for name, ids in wanted.items()} | more
    return dict(zip(queries, fetch_many(session, list(queries.values())), strict=True))


def _persons(
    session: Session,
    today: date,
    ids: set[int] | None,
    intern: Interner,
    fetched: dict[str, list[tuple[Any, ...]]] | None = None,
) -> tuple[dict[int, PersonFacts], dict[int, tuple[str, ...]]]:
    """PersonFacts by id for everyone (ids None: streamed in batches) or for ``ids`` (all
    tables in one round trip, SQL rendered once; ``fetched``: already read by the caller's
    round trip); and lost cards by person."""
    read: Callable[[str], Iterator[tuple[Any, ...]]]
    if ids is None:
        stmts = _queries(session.get_bind().dialect.name, today, False)

        def read(name: str) -> Iterator[tuple[Any, ...]]:
            return rows(session, stmts[name])
    else:
        got = (
            fetched if fetched is not None else _fetch_partial(session, today, dict.fromkeys(_PERSON_QUERIES, ids), {})
        )

        def read(name: str) -> Iterator[tuple[Any, ...]]:
            return iter(got[name])

    facts: dict[int, PersonFacts] = {}
    # small side facts (a few per person on site at most): dictionaries
    bans: dict[int, list[BanFact]] = {}
    for pid, until, reason in read("bans"):
        bans.setdefault(pid, []).append(intern.fact(BanFact, (intern.day(until), reason)))
    helmets = {pid for (pid,) in read("helmets")}
    held = {pid for (pid,) in read("held")}
    lost: dict[int, list[str]] = {}
    for pid, card in read("lost"):
        lost.setdefault(pid, []).append(card)

    for pid, name, card, dept, on_duty, dispatch, escort_z, access_z in read("employees"):
        facts[pid] = PersonFacts(
            person_id=pid,
            kind="employee",
            name=name,
            card=card,
            badge="active" if card else "none",
            department=intern(dept),
            access_zones=intern.zones(access_z),
            escort_zones=intern.zones(escort_z),
            on_duty=bool(on_duty),
            dispatch_room=bool(dispatch),
            bans=tuple(bans.get(pid, ())),
            incident_hold=pid in held,
        )

    escort_names: dict[int, str] = {pid: name for pid, name in read("escort_names")}
    forms = Merge(read("forms"))
    education = Merge(read("education"))

    def escorts_of(joined: str | None) -> tuple[EscortOfRecord, ...]:
        return intern(
            tuple(
                intern.fact(EscortOfRecord, (int(e), escort_names.get(int(e), f"#{e}")))
                for e in sorted(intern.zones(joined), key=int)
            )
        )

    last_pid = -1
    form_facts: tuple[FormFact, ...] = ()
    edu_facts: tuple[EducationFact, ...] = ()
    try:
        for pid, name, birth, card, visit_id, state, ahead, walk_in_by, _host in read("visitors"):
            if pid != last_pid:  # a second open visit (should not happen) reuses the same facts
                last_pid = pid
                form_facts = intern(
                    tuple(
                        intern.fact(
                            FormFact,
                            (
                                intern.zones(r[2]),
                                intern.moment(r[3]),
                                intern.moment(r[4]),
                                escorts_of(r[5]),
                                bool(r[6]),
                            ),
                        )
                        for r in forms.take(pid)
                    )
                )
                edu_facts = intern(
                    tuple(
                        intern.fact(
                            EducationFact,
                            (r[1], intern.day(r[2]), bool(r[3]), r[4], intern.json_zones(r[5]), intern.moment(r[6])),
                        )
                        for r in education.take(pid)
                    )
                )
            badge = "active"
            if card is None and pid in lost:
                card, badge = lost[pid][-1], "lost"
            elif card is None:
                badge = "none"
            facts[pid] = PersonFacts(
                person_id=pid,
                kind="visitor",
                name=name,
                card=card,
                badge=badge,  # type: ignore[arg-type]
                birth_date=intern.day(birth),
                visit=None
                if visit_id is None
                else intern.fact(VisitFact, (state, bool(ahead), walk_in_by is not None)),
                forms=form_facts,
                education=edu_facts,
                helmet=pid in helmets,
                bans=tuple(bans.get(pid, ())),
                incident_hold=pid in held,
            )
    finally:
        forms.close()
        education.close()
    return facts, {pid: tuple(cards) for pid, cards in lost.items()}


def _presence_stmt(partial: bool) -> Any:
    return where(
        select(Presence.person_id, Presence.zone, Presence.entered_at, Presence.escort_id, Person.kind).join(
            Person, Person.id == Presence.person_id
        ),
        only(partial, Presence.person_id),
    )


def _presence_facts(found: Iterable[tuple[Any, ...]], intern: Interner) -> dict[int, PresenceFact]:
    return {r[0]: PresenceFact(r[0], r[1], intern.moment(r[2]), r[3], r[4]) for r in found}  # type: ignore[arg-type]


def _presence(session: Session) -> dict[int, PresenceFact]:
    return _presence_facts(rows(session, _presence_stmt(False)), Interner())


def _index_cards(by_card: Any, facts: dict[int, PersonFacts], lost_cards: dict[int, tuple[str, ...]]) -> None:
    """Active cards win over lost ones: a found card may be issued again (R3). ``by_card``:
    a dict, or a Map's mutation (both have get and item assignment)."""
    for f in facts.values():
        if f.card is not None and f.badge == "active":
            by_card[f.card] = f
    for pid, cards in lost_cards.items():
        person = facts.get(pid)
        if person is None:
            continue
        for card in cards:
            held = by_card.get(card)
            if held is None or held.badge != "active" or held.person_id == pid:
                by_card[card] = person if person.card == card else replace(person, card=card, badge="lost")


def facts_for_persons(session: Session, today: date, person_ids: set[int]) -> dict[str, PersonFacts]:
    """card -> PersonFacts for a few persons, built by the same code as a full snapshot, so
    a one-off check (the handheld lookup, GET /zones/{zone}/check) and the gates agree."""
    facts, lost_cards = _persons(session, today, person_ids, Interner())
    by_card: dict[str, PersonFacts] = {}
    _index_cards(by_card, facts, lost_cards)
    return by_card


def facts_by_person(session: Session, today: date, person_ids: set[int]) -> dict[int, PersonFacts]:
    """person id -> PersonFacts, as ``facts_for_persons`` builds them, a visitor with an open
    visit but no badge yet included (card None, badge "none"): the visitor page's readiness
    checklist (zones.services.readiness). A visitor with neither visit nor badge is absent,
    as from a controller's snapshot."""
    return _persons(session, today, person_ids, Interner())[0]


def build_snapshot(session: Session, today: date) -> Snapshot:
    """Everything a controller needs, read in a few bulk queries. ``today`` is the site-local
    date (bans, education and forms that ended before it are left out)."""
    change_no = current_change_no(session)  # read first: the data is at least this new
    with no_gc():  # the maps' millions of trie nodes too: with the collector on, 5x slower
        facts, lost_cards = _persons(session, today, None, Interner())
        cards: dict[str, PersonFacts] = {}
        _index_cards(cards, facts, lost_cards)
        by_card, by_id, lost = Map(cards), Map(facts), Map(lost_cards)
        del cards, facts, lost_cards
    return_freed_memory()
    state = read_site_state(session)
    return Snapshot(
        change_no=change_no,
        built_at=datetime.now(UTC),
        by_card=by_card,
        by_id=by_id,
        presence=_presence(session),
        emergency=state.emergency_active,
        emergency_since=state.emergency_since,
        lost_cards=lost,
    )


def refresh_snapshot(session: Session, snap: Snapshot, today: date) -> Snapshot:
    """``snap`` itself when the change sequence has not moved; otherwise a new Snapshot with
    the persons named in the new changes rebuilt (everyone when a change names nobody),
    their presence re-read (everyone's after an emergency) and the emergency flags.
    Unchanged PersonFacts are shared with ``snap``.

    Its cost follows the changes, not the site: one query for the changes, then one round
    trip for every table's rows of the changed ids (SQL rendered once a day,
    ``_rendered_partial``; raw driver rows), and persistent maps that touch only the
    changed persons' paths."""
    if snap.change_no < 0:
        return build_snapshot(session, today)
    dialect = session.get_bind().dialect.name
    changed = fetch(session, _CHANGES_SINCE[dialect], {"after": snap.change_no})
    if not changed:
        return snap
    change_no = max(no for no, _, _ in changed)
    if any(pid is None and what not in _NO_PERSON_REBUILD for _, pid, what in changed):
        return build_snapshot(session, today)
    ids = {pid for _, pid, what in changed if pid is not None and what not in _NO_PERSON_REBUILD}
    if len(ids) > _MAX_PARTIAL:
        return build_snapshot(session, today)
    intern = Interner()  # a few persons: no GC tricks
    # Every write that moves a person's presence records a change naming them (shipping,
    # custody, muster); an emergency (a change naming nobody) re-reads everyone's.
    moved = {pid for _, pid, _ in changed if pid is not None}
    everyone_moved = any(pid is None for _, pid, _ in changed)
    # one round trip: the changed persons' rows, the moved persons' presence, the site state
    wanted = dict.fromkeys(_PERSON_QUERIES, ids) if ids else {}
    if moved and not everyone_moved:
        wanted["presence"] = moved
    got = _fetch_partial(session, today, wanted, {"site_state": (_SITE_STATE, {})})
    # A snapshot loaded from the disk cache holds dicts: made persistent once.
    by_card, by_id, lost_cards = _persistent(snap.by_card), _persistent(snap.by_id), _persistent(snap.lost_cards)
    if ids:
        facts, new_lost = _persons(session, today, ids, intern, got)
        kept = {f.card for f in facts.values() if f.card} | {c for cards in new_lost.values() for c in cards}
        with by_card.mutate() as card_map, by_id.mutate() as persons, lost_cards.mutate() as lost:
            for pid in ids:
                old = persons.get(pid)
                card: str
                for card in ((old.card,) if old and old.card else ()) + lost.get(pid, ()):
                    if card not in kept and (held := card_map.get(card)) is not None and held.person_id == pid:
                        del card_map[card]
                if pid not in facts:
                    persons.pop(pid, None)
                if pid not in new_lost:
                    lost.pop(pid, None)
            persons.update(facts)
            lost.update(new_lost)
            _index_cards(card_map, facts, new_lost)
            by_card, by_id, lost_cards = card_map.finish(), persons.finish(), lost.finish()
    if everyone_moved:
        presence = _presence(session)
    elif moved:
        presence = {p: f for p, f in snap.presence.items() if p not in moved}
        presence.update(_presence_facts(got["presence"], intern))
    else:
        presence = snap.presence
    state = got["site_state"]
    emergency, since = (bool(state[0][0]), intern.moment(state[0][1])) if state else (False, None)
    return Snapshot(
        change_no=change_no,
        built_at=datetime.now(UTC),
        by_card=by_card,
        by_id=by_id,
        presence=presence,
        emergency=emergency,
        emergency_since=since,
        lost_cards=lost_cards,
    )


# A refresh's first query: the changes since the snapshot (their newest is its new number).
_CHANGES_SINCE = {
    d: f"SELECT no, person_id, what FROM changes WHERE no > {param(d, 'after')}" for d in ("sqlite", "postgresql")
}
_SITE_STATE = "SELECT emergency_active, emergency_since FROM site_state WHERE id = 1"


def _persistent(m: Mapping[K, V]) -> Map[K, V]:
    return m if isinstance(m, Map) else Map(m)
