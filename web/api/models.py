"""Request and response models of the HTTP API (contract.md), in pydantic.

Request models forbid unknown fields, so a typo comes back as a 422 naming it instead of
being ignored. Times are ISO 8601 with an offset (``AwareDatetime``): a naive time is a 422.
Personal data (R20): responses carry ``*_masked`` always and the clear value only for the
safety officer (``None`` for every other role; web.permissions.can_see_identity).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from web.api.fields import (
    BAN_DAYS_MAX,
    LIST_MAX,
    SIGNATURE_MAX,
    Card,
    Day,
    Id,
    Moment,
    Name,
    OptionalName,
    RequiredText,
    Text,
)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---- errors (documented; web.errors produces them) ----
class ErrorOut(Out):
    error: str
    message: str
    items: list[str] | None = Field(None, description="409: what is in the way, e.g. ['helmet H-17']")


class FieldError(Out):
    field: str
    message: str


class ValidationErrorOut(Out):
    error: Literal["validation"]
    fields: list[FieldError]


# ---- people ----
class PersonRef(Out):
    id: int
    name: str
    kind: Literal["visitor", "employee"]


class EmployeeOut(Out):
    id: int
    name: str
    role: str
    department: str | None
    card: str | None
    escort_zones: list[str]


class EmployeeQuery(In):
    card: Card | None = None
    role: Literal["admin", "safety_officer", "reception", "escort", "guard"] | None = None
    department: Name | None = Field(None, max_length=100)


class VisitorIn(In):
    name: Name
    id_type: Literal["resident_id", "passport", "other"]
    id_number: Card
    organisation: OptionalName = ""
    phone: OptionalName | None = Field(None, max_length=40)
    birth_date: Day | None = Field(None, description="optional when derivable from a resident id")


class VisitorOut(Out):
    id: int
    name: str
    organisation: str
    birth_date: date | None = Field(None, description="safety officers only (R20); others see the age")
    age: int | None = Field(None, description="whole years today, when the birth date is known")
    id_type: str
    id_number_masked: str
    phone_masked: str | None
    id_number: str | None = Field(None, description="safety officers only (R20)")
    phone: str | None = Field(None, description="safety officers only (R20)")


class VisitOut(Out):
    id: int
    visitor_id: int
    host_id: int
    purpose: str
    state: Literal["booked", "on-site", "closed"]
    expected_at: datetime | None
    arrived_at: datetime | None
    closed_at: datetime | None
    flagged: str | None


class VisitIn(In):
    visitor_id: Id
    host_id: Id
    purpose: RequiredText
    expected_at: Moment | None = None


class CheckInIn(In):
    id_number: Card


class BadgeIn(In):
    card: Card


class BadgeOut(Out):
    id: int
    card: str
    visitor_id: int
    visit_id: int
    state: Literal["active", "returned", "lost"]
    issued_at: datetime
    returned_at: datetime | None
    lost_at: datetime | None


class ContactFormIn(In):
    visitor_id: Id
    zones: list[Card] = Field(min_length=1, max_length=LIST_MAX)
    escort_ids: list[Id] = Field(
        default_factory=list, max_length=LIST_MAX, description="R10: the escorts of record (one or more)"
    )
    escort_id: Id | None = Field(None, description="one escort: the older spelling of escort_ids")
    permissions: list[Name] = Field(
        default_factory=list, max_length=LIST_MAX, description="R13 grants: photography, vehicle, ..."
    )
    purpose: RequiredText
    valid_from: Moment
    valid_until: Moment
    outside_hours: bool = Field(False, description="R14: entry allowed outside the zone's hours")


class ApprovalOut(Out):
    department: str
    approved_by: int
    at: datetime


class ContactFormOut(Out):
    id: int
    visitor_id: int
    zones: list[str]
    escort_id: int | None
    escort_ids: list[int]
    permissions: list[str]
    purpose: str
    valid_from: datetime
    valid_until: datetime
    outside_hours: bool
    state: Literal["pending", "approved", "revoked"]
    approved_by: int | None
    approved_at: datetime | None
    approvals: list[ApprovalOut]
    pending_departments: list[str]


class RevokeIn(In):
    reason: Text = ""


class DepartmentHeadIn(In):
    employee_id: Id


class DepartmentHeadOut(Out):
    department: str
    head: PersonRef


class EducationIn(In):
    visitor_id: Id
    department: Name = Field(max_length=100)
    method: Literal["video", "verbal", "written"]
    topics: list[Name] = Field(max_length=LIST_MAX, description="every topic of GET /education/topics (R6)")
    delivered_at: Moment
    signature: str | None = Field(
        None, max_length=SIGNATURE_MAX, description="PNG data URL of the signed notification card (R7), required"
    )
    zones: list[Card] = Field(
        default_factory=list, max_length=LIST_MAX, description="the zones whose hazards were told (R9)"
    )
    notification_signed: bool | None = Field(None, description="derived from the signature; ignored if sent")


class TopicOut(Out):
    code: str
    label: str


class EducationOut(Out):
    id: int
    visitor_id: int
    department: str
    method: str
    topics: list[str]
    delivered_at: datetime
    delivered_on: date
    valid_until: date
    notification_signed: bool
    zones: list[str]


class HelmetIn(In):
    visitor_id: Id
    helmet_no: Card = Field(max_length=32)


class HelmetOut(Out):
    id: int
    helmet_no: str
    visitor_id: int
    issued_at: datetime
    returned_at: datetime | None


class BreachIn(In):
    person_id: Id
    rule: str = Field(pattern=r"^(R([1-9]|1[0-9]|20)|E1)$")
    severity: Literal["warning", "cancel-visit", "ban"]
    days: int | None = Field(None, strict=True, ge=1, le=BAN_DAYS_MAX, description="for a ban (at most 100 years)")
    prohibition: int | None = Field(
        None, strict=True, ge=1, le=7, description="R13's numbered prohibition, when rule is R13"
    )
    note: Text = ""


class BreachOut(Out):
    id: int
    person_id: int
    visit_id: int | None
    rule: str
    severity: str
    days: int | None
    note: str
    seen_by: int
    prohibition: int | None
    escort_id: int | None = Field(description="the escort in charge at that moment (R17)")
    escort: PersonRef | None = None
    at: datetime


class VisitorDetailOut(VisitorOut):
    visits: list[VisitOut]
    forms: list[ContactFormOut]
    education: list[EducationOut]
    badges: list[BadgeOut]
    helmets: list[HelmetOut]
    breaches: list[BreachOut]
