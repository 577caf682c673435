"""Response and request models of the site-wide API: zone checks, occupants, the
emergency and muster (R16), events (R18), statistics (R19) and gates. Same conventions as
web.api.models (unknown request fields are 422; personal data masked, R20)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from web.api.fields import Card, Id, Moment, Text
from web.api.models import In, Out, PersonRef


# ---- zones, presence, emergency ----
class ReasonOut(Out):
    rule: str
    message: str
    code: str | None = None
    params: dict[str, str] = Field(default_factory=dict)


class ZoneCheckQuery(In):
    card: Card
    escort_card: Card | None = None
    at: Moment | None = None


class ZoneCheckOut(Out):
    zone: str
    allowed: bool
    reasons: list[ReasonOut]
    person: PersonRef | None
    escort: PersonRef | None = None
    needs_escort: bool = False
    at: datetime


class OccupantOut(Out):
    person: PersonRef
    kind: Literal["visitor", "employee"]
    entered_at: datetime
    escort: PersonRef | None
    accounted: bool
    form_valid_until: datetime | None = None  # extension: a visitor's contact form for the zone ends (R5)


class PassbackResetIn(In):
    person_id: Id


class PassbackResetOut(Out):
    person_id: int
    zone: str
    cleared: bool


class EmergencyIn(In):
    active: bool
    reason: Text = ""


class EmergencyOut(Out):
    active: bool
    since: datetime | None
    reason: str | None


class MusterPerson(Out):
    person: PersonRef
    zone: str | None = Field(description="None: on site, not in a gated zone")
    escort: PersonRef | None
    host: PersonRef | None = Field(None, description="a visitor's host (visitors outside the zones)")
    phone_masked: str | None
    phone: str | None = Field(
        None, description="safety officers (R20); and the visitor's escort of record while an emergency is active (R16)"
    )
    accounted: bool
    entered_at: datetime | None
    marked_by: PersonRef | None = Field(None, description="who marked them accounted for (R16)")
    marked_at: datetime | None = None


class MusterZone(Out):
    zone: str | None = Field(description='None: "on site, not in a gated zone" (R16)')
    name: str
    people: list[MusterPerson]


class MusterOut(Out):
    active: bool
    since: datetime | None
    reason: str | None = Field(None, description="the emergency's reason (R16)")
    zones: list[MusterZone]
    missing: list[MusterPerson] = Field(description="people inside and not yet accounted for (R16)")


class AccountedIn(In):
    accounted: bool = True


class AccountedOut(Out):
    person_id: int
    accounted: bool


# ---- records ----
class EventsQuery(In):
    since: Moment | None = None
    until: Moment | None = None
    gate: Card | None = None
    zone: Card | None = None
    allowed: bool | None = None
    limit: int = Field(100, ge=1, le=1000)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")


class EventOut(Out):
    id: int
    at: datetime
    kind: str
    gate: str | None
    zone: str | None
    card: str | None
    person: PersonRef | None
    allowed: bool | None
    reasons: list[dict[str, Any]]
    passed: bool | None
    direction: str | None


class EventsOut(Out):
    events: list[EventOut]
    next_cursor: str | None


class StatsQuery(In):
    month: str = Field(pattern=r"^(19\d\d|2[01]\d\d|2200)-(0[1-9]|1[0-2])$", description="YYYY-MM, site timezone")


class StatsOut(Out):
    month: str
    visits: dict[str, int]
    denials: dict[str, Any]
    breaches: dict[str, Any] = Field(description="total, by_severity, by_rule, by_prohibition (R13), by_escort (R17)")
    educations: dict[str, Any]
    incidents: dict[str, Any]  # R21-R23: zones.services.reception_stats
    complaints: dict[str, Any]
    answer_times: dict[str, Any]
    follow_up: dict[str, Any]
    alerts: dict[str, int] = Field(description="unescorted: alerts opened in the month (R10)")


class GateOut(Out):
    id: str
    zone: str
    direction: Literal["in", "out"]
    state: str | None
    updated_at: datetime | None
    snapshot_age_s: float | None
    controller: str | None
    detail: dict[str, Any]
