"""Read queries the web pages need that the write services do not offer: lists, searches,
a visitor's full record, who is where, expiring education cards.

Every function takes a Session first and returns plain rows (schema objects or small
dataclasses); none writes. Masking personal data (R20) is the page's job, since it depends
on who is looking.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zones.schema import (
    Badge,
    Ban,
    Breach,
    ContactForm,
    Education,
    Employee,
    GateHealth,
    Helmet,
    NotificationCard,
    Person,
    Presence,
    Visit,
    Visitor,
)
from zones.services._common import get_or_404
from zones.services.people import normalise_id_number


def employees(session: Session, *, roles: tuple[str, ...] | None = None, escort_zone: str | None = None) -> list[Employee]:
    """Active employees by name, optionally only some roles or those who may escort in a zone."""
    q = select(Employee).where(Employee.active.is_(True)).order_by(Employee.name)
    if roles:
        q = q.where(Employee.role.in_(roles))
    rows = list(session.scalars(q))
    if escort_zone:
        rows = [e for e in rows if escort_zone in e.escort_zone_ids]
    return rows


def names(session: Session, ids: set[int | None]) -> dict[int, str]:
    """Person id -> name for the ids given (None ignored)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).all())


# ---- visitors ---------------------------------------------------------------------------

def escort_visitor_ids(session: Session, escort_id: int) -> set[int]:
    """Visitors an escort is responsible for: on a form naming them as escort, or on a visit
    they host (permissions.own_visitors_only)."""
    on_forms = session.scalars(select(ContactForm.visitor_id).where(
        ContactForm.escort_id == escort_id, ContactForm.state != "revoked"))
    hosted = session.scalars(select(Visit.visitor_id).where(Visit.host_id == escort_id))
    return set(on_forms) | set(hosted)


def search_visitors(session: Session, text: str = "", *, only_ids: set[int] | None = None, limit: int = 100) -> list[Visitor]:
    """Visitors whose name, organisation or phone contains ``text``, or whose identity number
    is ``text`` exactly (R2 lookup by number); newest first. ``only_ids`` limits the rows
    (an escort's own visitors)."""
    q = select(Visitor).order_by(Visitor.id.desc()).limit(limit)
    text = text.strip()
    if text:
        like = f"%{text}%"
        q = q.where(or_(Visitor.name.ilike(like), Visitor.organisation.ilike(like), Visitor.phone.ilike(like),
                        Visitor.id_number == normalise_id_number(text)))
    if only_ids is not None:
        q = q.where(Visitor.id.in_(only_ids or {-1}))
    return list(session.scalars(q))


@dataclass
class VisitorRecord:
    """Everything known about one visitor, for the safety officer's full record page."""

    visitor: Visitor
    visits: list[Visit]
    forms: list[ContactForm]
    education: list[Education]
    cards: dict[int, NotificationCard]          # education id -> signed notification card
    badges: list[Badge]
    helmets: list[Helmet]
    breaches: list[Breach]
    bans: list[Ban]
    presence: Presence | None
    names: dict[int, str] = field(default_factory=dict)   # employee ids named above


def visitor_record(session: Session, visitor_id: int) -> VisitorRecord:
    """The full record of a visitor; NotFound for an unknown id."""
    v = get_or_404(session, Visitor, visitor_id, "visitor")

    def rows(model, column, order):  # type: ignore[no-untyped-def]
        return list(session.scalars(select(model).where(column == visitor_id).order_by(order.desc())))

    visits = rows(Visit, Visit.visitor_id, Visit.id)
    forms = rows(ContactForm, ContactForm.visitor_id, ContactForm.id)
    education = rows(Education, Education.visitor_id, Education.delivered_at)
    cards = {c.education_id: c for c in session.scalars(select(NotificationCard).where(
        NotificationCard.education_id.in_([e.id for e in education] or [-1])))}
    record = VisitorRecord(
        visitor=v, visits=visits, forms=forms, education=education, cards=cards,
        badges=rows(Badge, Badge.visitor_id, Badge.id), helmets=rows(Helmet, Helmet.visitor_id, Helmet.id),
        breaches=rows(Breach, Breach.person_id, Breach.at), bans=rows(Ban, Ban.person_id, Ban.until),
        presence=session.get(Presence, visitor_id),
    )
    ids: set[int | None] = {x.host_id for x in visits} | {f.escort_id for f in forms} | {f.approved_by for f in forms}
    ids |= {e.educator_id for e in education} | {b.seen_by for b in record.breaches}
    record.names = names(session, ids)
    return record


def education_with_card(session: Session, education_id: int) -> tuple[Education, Visitor, NotificationCard | None, str]:
    """An education record, its visitor, signed card (if any) and educator's name (R8 card)."""
    edu = get_or_404(session, Education, education_id, "education record")
    visitor = session.get(Visitor, edu.visitor_id)
    assert visitor is not None
    card = session.scalar(select(NotificationCard).where(NotificationCard.education_id == edu.id))
    return edu, visitor, card, names(session, {edu.educator_id}).get(edu.educator_id, "")


# ---- visits and forms -------------------------------------------------------------------

@dataclass
class VisitRow:
    visit: Visit
    visitor: Visitor
    host: str
    badge: str | None
    helmet: str | None


def visits(session: Session, *, states: tuple[str, ...] = ("booked", "on-site"), limit: int = 200) -> list[VisitRow]:
    """Visits in ``states`` with their visitor, host, active badge and helmet out; newest first."""
    rows = session.execute(select(Visit, Visitor).join(Visitor, Visitor.id == Visit.visitor_id)
                           .where(Visit.state.in_(states)).order_by(Visit.id.desc()).limit(limit)).all()
    vids = [v.id for _, v in rows] or [-1]
    badges = dict(session.execute(select(Badge.visitor_id, Badge.card).where(
        Badge.visitor_id.in_(vids), Badge.state == "active")).all())
    helmets = dict(session.execute(select(Helmet.visitor_id, Helmet.helmet_no).where(
        Helmet.visitor_id.in_(vids), Helmet.returned_at.is_(None))).all())
    hosts = names(session, {visit.host_id for visit, _ in rows})
    return [VisitRow(visit, visitor, hosts.get(visit.host_id, ""), badges.get(visitor.id), helmets.get(visitor.id))
            for visit, visitor in rows]


@dataclass
class FormRow:
    form: ContactForm
    visitor: Visitor
    escort: str
    departments: list[str]


def contact_forms(session: Session, zone_departments: dict[str, str], *, state: str = "pending",
                  limit: int = 200) -> dict[str, list[FormRow]]:
    """Contact forms in ``state``, grouped by the department owning their zones (R5 approval
    queue per department); a form spanning two departments appears under both.
    ``zone_departments`` maps zone id -> department (config)."""
    rows = session.execute(select(ContactForm, Visitor).join(Visitor, Visitor.id == ContactForm.visitor_id)
                           .where(ContactForm.state == state).order_by(ContactForm.id.desc()).limit(limit)).all()
    escorts = names(session, {f.escort_id for f, _ in rows})
    out: dict[str, list[FormRow]] = {}
    for form, visitor in rows:
        depts = sorted({zone_departments.get(z, "?") for z in form.zone_ids})
        row = FormRow(form, visitor, escorts.get(form.escort_id or -1, ""), depts)
        for d in depts:
            out.setdefault(d, []).append(row)
    return dict(sorted(out.items()))


# ---- education ending soon --------------------------------------------------------------

@dataclass
class ExpiringRow:
    visitor: Visitor
    education: Education
    escorts: list[str]
    host: str | None


def expiring_education(session: Session, today: date, days: int = 14) -> list[ExpiringRow]:
    """The newest education card per visitor and department ending within ``days`` days of
    ``today`` (inclusive), with the visitor's escorts (current forms) and host (open or last
    visit), soonest first. A visitor re-educated since is not listed."""
    latest: dict[tuple[int, str], Education] = {}
    for e in session.scalars(select(Education).where(Education.valid_until >= today).order_by(Education.valid_until)):
        latest[(e.visitor_id, e.department)] = e   # ordered: the last one wins
    soon = [e for e in latest.values() if e.valid_until <= today + timedelta(days=days)]
    if not soon:
        return []
    vids = {e.visitor_id for e in soon}
    visitors = {v.id: v for v in session.scalars(select(Visitor).where(Visitor.id.in_(vids)))}
    escort_of: dict[int, set[int]] = {}
    for f in session.scalars(select(ContactForm).where(ContactForm.visitor_id.in_(vids), ContactForm.state != "revoked")):
        if f.escort_id:
            escort_of.setdefault(f.visitor_id, set()).add(f.escort_id)
    host_of: dict[int, int] = {}
    for v in session.scalars(select(Visit).where(Visit.visitor_id.in_(vids)).order_by(Visit.id)):
        host_of[v.visitor_id] = v.host_id
    who = names(session, set(host_of.values()) | {i for s in escort_of.values() for i in s})
    return [ExpiringRow(visitors[e.visitor_id], e, sorted(who.get(i, "") for i in escort_of.get(e.visitor_id, ())),
                        who.get(host_of.get(e.visitor_id, -1)))
            for e in sorted(soon, key=lambda e: (e.valid_until, e.visitor_id))]


# ---- where people are -------------------------------------------------------------------

def occupancy(session: Session) -> Counter[str]:
    """People recorded inside each zone now (R15, R16)."""
    rows = session.execute(select(Presence.zone, func.count()).group_by(Presence.zone)).all()
    return Counter({zone: int(n) for zone, n in rows})


def gate_health(session: Session) -> list[GateHealth]:
    return list(session.scalars(select(GateHealth).order_by(GateHealth.gate_id)))


@dataclass
class EscortedVisitor:
    visitor: Visitor
    visit: Visit | None
    zone: str | None            # where the visitor is now (None: not inside any zone)
    entered_at: object = None
    forms: list[ContactForm] = field(default_factory=list)
    badge: str | None = None    # the active badge's card, to look it up in one tap


def escort_visitors(session: Session, escort_id: int) -> list[EscortedVisitor]:
    """An escort's own visitors with an open visit, and where each one is now."""
    ids = escort_visitor_ids(session, escort_id)
    open_visits = {v.visitor_id: v for v in session.scalars(
        select(Visit).where(Visit.visitor_id.in_(ids or {-1}), Visit.state != "closed"))}
    out = []
    for visitor in session.scalars(select(Visitor).where(Visitor.id.in_(set(open_visits))).order_by(Visitor.name)):
        here = session.get(Presence, visitor.id)
        forms = list(session.scalars(select(ContactForm).where(
            ContactForm.visitor_id == visitor.id, ContactForm.escort_id == escort_id,
            ContactForm.state == "approved")))
        badge = session.scalar(select(Badge.card).where(Badge.visitor_id == visitor.id, Badge.state == "active"))
        out.append(EscortedVisitor(visitor, open_visits.get(visitor.id), here.zone if here else None,
                                   here.entered_at if here else None, forms, badge))
    return out


# ---- breaches and bans ------------------------------------------------------------------

@dataclass
class BreachRow:
    breach: Breach
    person: str
    seen_by: str


def breaches(session: Session, *, limit: int = 200) -> list[BreachRow]:
    rows = list(session.scalars(select(Breach).order_by(Breach.at.desc()).limit(limit)))
    who = names(session, {b.person_id for b in rows} | {b.seen_by for b in rows})
    return [BreachRow(b, who.get(b.person_id, "?"), who.get(b.seen_by, "?")) for b in rows]


def active_bans(session: Session, today: date) -> list[tuple[Ban, str]]:
    rows = list(session.scalars(select(Ban).where(Ban.until >= today).order_by(Ban.until)))
    who = names(session, {b.person_id for b in rows})
    return [(b, who.get(b.person_id, "?")) for b in rows]


def people_on_site(session: Session) -> list[tuple[int, str, str]]:
    """Visitors with an open visit and all active employees, as (id, name, kind), for
    choosing whom a breach is recorded against."""
    vis = session.execute(select(Visitor.id, Visitor.name).join(Visit, Visit.visitor_id == Visitor.id)
                          .where(Visit.state != "closed").order_by(Visitor.name)).all()
    emp = session.execute(select(Employee.id, Employee.name).where(Employee.active.is_(True))
                          .order_by(Employee.name)).all()
    return [(i, n, "visitor") for i, n in dict(vis).items()] + [(i, n, "employee") for i, n in emp]
