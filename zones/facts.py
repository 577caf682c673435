"""Value objects the rules engine reads: what is known about a person, a zone and a request.

These are plain frozen dataclasses with ``__slots__`` rather than pydantic models on
purpose: a controller holds one ``PersonFacts`` per cardholder in memory (2,000,000 of them
on a large site, in under 1 GiB) and the engine reads them tens of thousands of times a
second. pydantic models stay at the edges (config.toml, the HTTP API), where input has to
be validated; these objects are built only from already-validated data.

Times: ``datetime`` values are timezone-aware (UTC in storage); ``date`` values are
calendar dates in the site's timezone (education dates, birth dates, ban ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

PersonKind = Literal["visitor", "employee"]
BadgeState = Literal["active", "lost", "returned", "none"]
RiskLevel = Literal["general", "high-risk"]

EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A daily window in the site's local time, e.g. 06:00-22:00 or 20:00-07:00.

    A window whose end is not after its start crosses midnight (R14 night visits).
    """

    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class Zone:
    """A production zone as configured in config.toml (``[[zones]]``)."""

    id: str
    name: str
    department: str
    risk: RiskLevel = "general"
    helmet: bool = False
    max_occupancy: int | None = None
    hours: TimeWindow | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    """The site's rule parameters (``[rules]`` in config.toml) and its timezone."""

    timezone: str = "Asia/Shanghai"
    education_valid_months: int = 3
    notification_retention_months: int = 6
    escort_window_s: float = 10.0
    escort_max_visitors: int = 5
    min_age: int = 18
    night: TimeWindow = field(default_factory=lambda: TimeWindow(time(20, 0), time(7, 0)))
    safety_department: str = "safety"  # R6: its verbal briefing counts for every zone
    dispatch_department: str = "dispatch"  # R6/R14: night education and night escorts


@dataclass(frozen=True, slots=True)
class VisitFact:
    """The visitor's current visit (R1, R2). Only what a gate needs, so that the few
    distinct values can be shared by every visitor in a snapshot."""

    state: Literal["booked", "on-site", "closed"]
    booked_ahead: bool = True  # R1: appointment made before arrival
    walk_in_approved: bool = False  # R1: safety officer's walk-in exception


@dataclass(frozen=True, slots=True)
class EscortOfRecord:
    """An employee a contact form names as escort, or a substitute a safety officer added
    to it (R10). The name lets a denial say whom the visitor must wait for."""

    person_id: int
    name: str


@dataclass(frozen=True, slots=True)
class FormFact:
    """An approved visitor entry contact form (R5). Only approved, unrevoked forms are facts;
    no form id, so identical forms (a group visit) share one object in a snapshot.
    ``escorts`` are the escorts of record (R10): a visitor is paired only with one of them."""

    zones: frozenset[str]
    valid_from: datetime
    valid_until: datetime
    escorts: tuple[EscortOfRecord, ...] = ()
    outside_hours: bool = False  # R14: the form allows entry outside the zone's hours

    def names_escort(self, person_id: int) -> bool:
        return any(e.person_id == person_id for e in self.escorts)


@dataclass(frozen=True, slots=True)
class EducationFact:
    """Safety education given by a department (R6), its education card (R8) and whether the
    notification card was signed (R7). ``zones`` are the zones whose hazards the signed card
    names (R9); empty on records made before cards named zones, which count for the zones of
    their own department. ``delivered_at``: education dated after the moment decided is not
    counted (R6: never in the future)."""

    department: str
    delivered_on: date
    notification_signed: bool = False
    method: Literal["video", "verbal", "written"] = "video"
    zones: frozenset[str] = EMPTY
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BanFact:
    """A ban from the site after a breach (R17), inclusive of ``until``."""

    until: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """Everything the engine may need to know about one cardholder.

    Visitors carry visit, forms, education, helmet and bans; employees carry their
    department, the zones they may enter, the zones they may escort in, and duty flags.
    """

    person_id: int
    kind: PersonKind
    name: str
    card: str | None = None
    badge: BadgeState = "active"  # R3: state of the card presented
    birth_date: date | None = None
    # visitors
    visit: VisitFact | None = None
    forms: tuple[FormFact, ...] = ()
    education: tuple[EducationFact, ...] = ()
    helmet: bool = False  # R12: a helmet is currently issued
    bans: tuple[BanFact, ...] = ()  # R17: visitors and employees alike
    incident_hold: bool = False  # R21: recorded in an open category A or B incident
    # employees
    department: str | None = None
    access_zones: frozenset[str] = EMPTY  # zones the employee may enter (E1)
    escort_zones: frozenset[str] = EMPTY  # zones the employee may escort in (R10)
    on_duty: bool = True
    dispatch_room: bool = False  # may escort at night (R14)
    phone: str | None = None  # personal data (R20): never logged


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """One attempt to enter ``zone`` at ``now``, with what the controller knows of the moment.

    ``person`` is None when the card is unknown. ``escort`` is the escort whose card was
    presented within the pairing window (R10), or None. ``escort_charge`` is how many
    visitors are in that escort's charge now, not counting this one. ``occupancy`` is how
    many people are in the zone now (R15); ``inside`` is true when this person is recorded
    inside the zone already (anti-passback, R15). ``escort_waited``: the gate held the card
    for the whole escort window before this decision (R10).
    """

    card: str
    person: PersonFacts | None
    now: datetime
    escort: PersonFacts | None = None
    escort_charge: int = 0
    occupancy: int = 0
    inside: bool = False
    emergency: bool = False
    escort_waited: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    """One failing rule. ``message`` is English; ``code`` and ``params`` let the web render
    the same reason in another language (zones.messages)."""

    rule: str
    code: str
    message: str
    params: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: allowed only when ``reasons`` is empty; a denial always has reasons."""

    allowed: bool
    reasons: tuple[Reason, ...]
    person_id: int | None = None
    needs_escort: bool = False  # a visitor whose only missing fact is the escort's card (R10)

    def rules(self) -> list[str]:
        return [r.rule for r in self.reasons]
