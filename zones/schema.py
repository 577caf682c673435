"""The central database's tables as SQLAlchemy 2 typed declarative models.

The domain value objects (zones.facts) never import this module; services and the
snapshot builder translate rows into facts. Changes to these models need a migration in
zones/migrations/versions (the tests build every database from migrations, not create_all).

People share one id space: ``persons`` holds the id, name and phone of every visitor and
employee (joined-table inheritance), so events, presence, breaches and the controller's
snapshot can name any person by one integer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from zones.db import UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids where rows pile up.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ROLES = ("admin", "safety_officer", "reception", "escort", "guard")
ID_TYPES = ("resident_id", "passport", "other")
VISIT_STATES = ("booked", "on-site", "closed")
BADGE_STATES = ("active", "returned", "lost")
FORM_STATES = ("pending", "approved", "revoked")
EDUCATION_METHODS = ("video", "verbal", "written")
SEVERITIES = ("warning", "cancel-visit", "ban")
EVENT_KINDS = ("read", "decision", "passage", "fault", "emergency", "alert")
ALERT_STATES = ("open", "closed")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Department(Base):
    """A department owns zones (config.toml names it by ``department``); its head may
    approve contact forms for its zones (R5)."""

    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", use_alter=True, name="fk_departments_head"), nullable=True
    )


class Person(Base):
    """Every visitor and employee: the shared id, name and phone (R20: phone is personal)."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "visitor" | "employee"
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_abstract": True}


class Employee(Person):
    """A staff member and web user. ``card`` is their own access card (E1, R10 escorts)."""

    __tablename__ = "employees"
    id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    # the sign-in name ("zhao"), when it is not the person's name ("Zhao Lei"), which the
    # pages show; without one the employee signs in with their name
    login: Mapped[str | None] = mapped_column(String(100), unique=True)
    department: Mapped[str | None] = mapped_column(String(100))
    card: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(5))
    on_duty: Mapped[bool] = mapped_column(default=True)
    dispatch_room: Mapped[bool] = mapped_column(default=False)  # may escort at night (R14)
    active: Mapped[bool] = mapped_column(default=True)
    # bumped on logout and password change: every session cookie issued before is void
    session_generation: Mapped[int] = mapped_column(default=0)
    password_changed_at: Mapped[datetime | None]
    escort_zones: Mapped[list[EmployeeEscortZone]] = relationship(cascade="all, delete-orphan")
    access_zones: Mapped[list[EmployeeAccessZone]] = relationship(cascade="all, delete-orphan")
    __mapper_args__ = {"polymorphic_identity": "employee"}

    @property
    def escort_zone_ids(self) -> list[str]:
        return sorted(z.zone for z in self.escort_zones)

    @property
    def access_zone_ids(self) -> list[str]:
        return sorted(z.zone for z in self.access_zones)


class EmployeeEscortZone(Base):
    """Zones an employee may escort visitors in (R10)."""

    __tablename__ = "employee_escort_zones"
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)


class EmployeeAccessZone(Base):
    """Zones an employee may enter on their own card."""

    __tablename__ = "employee_access_zones"
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: never ([web] token_days unset)
    last_used_at: Mapped[datetime | None]


class Visitor(Person):
    """Someone not employed by the site (R2). ``id_number`` is stored normalised (upper case,
    no spaces) so a lookup by number works; it is shown masked outside safety views (R20)."""

    __tablename__ = "visitors"
    id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    id_type: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date | None]
    __mapper_args__ = {"polymorphic_identity": "visitor"}
    __table_args__ = (Index("ux_visitors_id", "id_type", "id_number", unique=True),)


class Visit(Base):
    """One visit: booked (R1) -> on-site (R2 check-in) -> closed (R4)."""

    __tablename__ = "visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    purpose: Mapped[str] = mapped_column(Text, default="")
    expected_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(10), default="booked")
    booked_ahead: Mapped[bool] = mapped_column(default=True)
    walk_in_approved_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    walk_in_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    arrived_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    flagged: Mapped[str | None] = mapped_column(Text)  # why the visit needs attention (R4, R12)
    # R16: seen at the assembly point while on site but not inside a gated zone, by whom and
    # when (the employee's id; meaningful only while ``accounted``)
    accounted: Mapped[bool] = mapped_column(default=False)
    accounted_by: Mapped[int | None]
    accounted_at: Mapped[datetime | None]


class Badge(Base):
    """A visitor badge: the card the readers see (R3). At most one active badge per card
    and per visitor (partial unique indexes)."""

    __tablename__ = "badges"
    id: Mapped[int] = mapped_column(primary_key=True)
    card: Mapped[str] = mapped_column(String(64), index=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    state: Mapped[str] = mapped_column(String(10), default="active")
    issued_at: Mapped[datetime]
    returned_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    __table_args__ = (
        Index(
            "ux_badges_active_card",
            "card",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
        Index(
            "ux_badges_active_visitor",
            "visitor_id",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )


class ContactForm(Base):
    """A visitor entry contact form (R5): pending until the zone department's head or
    safety officer approves it."""

    __tablename__ = "contact_forms"
    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    escort_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    purpose: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    outside_hours: Mapped[bool] = mapped_column(default=False)  # R14
    state: Mapped[str] = mapped_column(String(10), default="pending")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime]
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    approved_at: Mapped[datetime | None]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[list[Any]] = mapped_column(default=list)  # R13 grants: "photography", "vehicle"
    zones: Mapped[list[ContactFormZone]] = relationship(cascade="all, delete-orphan")
    escorts: Mapped[list[ContactFormEscort]] = relationship(cascade="all, delete-orphan")
    approvals: Mapped[list[ContactFormApproval]] = relationship(cascade="all, delete-orphan")

    @property
    def zone_ids(self) -> list[str]:
        return sorted(z.zone for z in self.zones)


class ContactFormZone(Base):
    __tablename__ = "contact_form_zones"
    form_id: Mapped[int] = mapped_column(ForeignKey("contact_forms.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)


class ContactFormEscort(Base):
    """An escort of record on a form (R10): named on it, or a substitute a safety officer
    authorised later (``substitute``, with who and when: "whoever escorts is responsible")."""

    __tablename__ = "contact_form_escorts"
    form_id: Mapped[int] = mapped_column(ForeignKey("contact_forms.id", ondelete="CASCADE"), primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    substitute: Mapped[bool] = mapped_column(default=False)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    added_at: Mapped[datetime | None]


class ContactFormApproval(Base):
    """One department's approval of a form (R5): the form is approved when every department
    of its zones has approved."""

    __tablename__ = "contact_form_approvals"
    form_id: Mapped[int] = mapped_column(ForeignKey("contact_forms.id", ondelete="CASCADE"), primary_key=True)
    department: Mapped[str] = mapped_column(String(100), primary_key=True)
    approved_by: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    at: Mapped[datetime]


class Education(Base):
    """Safety education given to a visitor (R6) and their education card (R8): valid through
    ``valid_until`` inclusive. ``delivered_on`` is the site-local date of ``delivered_at``.
    Rows cannot be updated (database trigger, R7/R8 records)."""

    __tablename__ = "education"
    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    department: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    topics: Mapped[list[Any]] = mapped_column(default=list)
    delivered_at: Mapped[datetime]
    delivered_on: Mapped[date]
    educator_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    valid_until: Mapped[date]
    notification_signed: Mapped[bool] = mapped_column(default=False)
    # R9: the zones whose hazards were told on the signed card; empty on records made before
    # the card named zones (they count for the zones of their department, as they did then)
    zones: Mapped[list[Any]] = mapped_column(default=list)


class NotificationCard(Base):
    """The safety notification card the visitor signed (R7). Kept through ``retain_until``;
    a database trigger rejects UPDATE and DELETE before then."""

    __tablename__ = "notification_cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    education_id: Mapped[int] = mapped_column(ForeignKey("education.id"), unique=True)
    signature: Mapped[str | None] = mapped_column(Text)  # PNG data URL of the signature
    signed_at: Mapped[datetime]
    retain_until: Mapped[date]


class Helmet(Base):
    """A safety helmet issued to a visitor (R12); out while ``returned_at`` is NULL."""

    __tablename__ = "helmets"
    id: Mapped[int] = mapped_column(primary_key=True)
    helmet_no: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    issued_at: Mapped[datetime]
    returned_at: Mapped[datetime | None]
    __table_args__ = (
        Index(
            "ux_helmets_out_no",
            "helmet_no",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index(
            "ux_helmets_out_visitor",
            "visitor_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
    )


class Breach(Base):
    """A recorded breach (R13, R17) by a visitor or, for bringing someone in unregistered,
    by the responsible employee."""

    __tablename__ = "breaches"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    rule: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(15))
    days: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")
    seen_by: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    prohibition: Mapped[int | None]  # R13's numbered prohibition (1-7) when rule is R13
    escort_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))  # in charge then (R17)
    at: Mapped[datetime]


class Ban(Base):
    """A ban from the site through ``until`` inclusive (R17)."""

    __tablename__ = "bans"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    until: Mapped[date]
    reason: Mapped[str] = mapped_column(Text, default="")
    breach_id: Mapped[int | None] = mapped_column(ForeignKey("breaches.id"))


class Event(Base):
    """A gate record shipped from a controller's journal (R18). ``id`` is the cursor of
    GET /events; ``key`` makes shipping idempotent. Never updated or deleted (trigger)."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    gate: Mapped[str | None] = mapped_column(String(64))
    zone: Mapped[str | None] = mapped_column(String(64))
    controller: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    card: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None]  # no FK: the journal is the truth
    escort_id: Mapped[int | None]
    allowed: Mapped[bool | None]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    passed: Mapped[bool | None]
    direction: Mapped[str | None] = mapped_column(String(3))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # GET /events: each filter's index ends in id (keyset pages); R19 statistics: denials
    # by month (migration 0005_event_indexes, README "Scale").
    __table_args__ = (
        *(Index(f"ix_events_{c}_id", c, "id") for c in ("gate", "zone", "card", "kind", "person_id")),
        Index(
            "ix_events_denials_at",
            "at",
            postgresql_include=["reasons"],
            postgresql_where=text("kind = 'decision' AND allowed = false"),
            sqlite_where=text("kind = 'decision' AND allowed = false"),
        ),
    )


class Presence(Base):
    """Where a person is now, from passages (R15 anti-passback, R16 muster). One row per
    person: entering a zone moves them there."""

    __tablename__ = "presence"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), index=True)
    entered_at: Mapped[datetime]
    escort_id: Mapped[int | None]
    accounted: Mapped[bool] = mapped_column(default=False)  # R16: seen at the assembly point
    accounted_by: Mapped[int | None]  # the employee who marked it (only meaningful while accounted)
    accounted_at: Mapped[datetime | None]


class GateHealth(Base):
    """A controller's latest report about one gate (shown on the panel)."""

    __tablename__ = "gate_health"
    gate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    controller: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(32))
    snapshot_age_s: Mapped[float | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SiteState(Base):
    """The single row of site-wide state: the emergency (R16)."""

    __tablename__ = "site_state"
    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    emergency_active: Mapped[bool] = mapped_column(default=False)
    emergency_since: Mapped[datetime | None]
    emergency_reason: Mapped[str | None] = mapped_column(Text)
    emergency_source: Mapped[str | None] = mapped_column(String(100))


class Change(Base):
    """The change sequence: every write that could change a gate decision adds a row in the
    same transaction; controllers refresh their snapshot when ``max(no)`` moves."""

    __tablename__ = "changes"
    no: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(index=True)
    what: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    __table_args__ = {"sqlite_autoincrement": True}  # numbers are never reused


class Alert(Base):
    """Something staff must act on: visitors left without their escort (R10), an unscheduled
    arrival routed to a department (R21), an answer, report or follow-up past its due date
    (R21-R23). ``key`` makes opening idempotent (a controller may ship one event twice).

    Who is concerned: ``escort_id`` (the escort of R10), and the employees of
    ``department``; ``audience`` "safety" narrows the department to its safety officers
    (unescorted visitors), "members" alerts everyone in it (a routed incident)."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    close_note: Mapped[str | None] = mapped_column(Text)
    zone: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    escort_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(100), index=True)
    audience: Mapped[str] = mapped_column(String(10), default="members")
    subject_id: Mapped[int | None]  # the incident or complaint the alert is about
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Incident(Base):
    """An unscheduled arrival recorded by reception (R21), routed at once to the department
    responsible for its category; open until its report is filed."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(10))  # "A" | "B" | "C" | "other"
    summary: Mapped[str] = mapped_column(Text)
    arrived_at: Mapped[datetime]
    recorded_by: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    recorded_at: Mapped[datetime]
    routed_to: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)  # "open" | "closed"
    report_due: Mapped[date]
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    report_text: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None]
    people: Mapped[list[IncidentPerson]] = relationship(cascade="all, delete-orphan")


class IncidentPerson(Base):
    """Someone involved in an incident; linked to the registered visitor with the same
    identity number (R21: A and B people do not enter production zones meanwhile)."""

    __tablename__ = "incident_people"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    id_number: Mapped[str | None] = mapped_column(String(64))  # personal data (R20)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)


class Complaint(Base):
    """A complaint or suggestion registered by reception (R22) and its answer; closing it
    sets the follow-up due time (R23). ``related_to`` links the same matter raised again."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str] = mapped_column(String(200), default="")  # personal data (R20)
    channel: Mapped[str] = mapped_column(String(10))  # "in-person" | "phone" | "letter"
    subject: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    registered_by: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    registered_at: Mapped[datetime]
    answer_due: Mapped[date]
    state: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open | answered | closed
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    answered_at: Mapped[datetime | None]
    promised_date: Mapped[date | None]  # the answer is not final yet: when it will be
    closed_at: Mapped[datetime | None]
    follow_up_due: Mapped[datetime | None]
    related_to: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)


class FollowUp(Base):
    """The follow-up of a closed complaint (R23): by phone, or in person with the person's
    signature (a PNG data URL, as on the notification card)."""

    __tablename__ = "follow_ups"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))  # "phone" | "in-person"
    satisfaction: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str | None] = mapped_column(Text)
    by: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    at: Mapped[datetime]
