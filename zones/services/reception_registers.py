"""The registers staff keep, as plain tables for export (R19-R23): the visitor register,
incidents, complaints, follow-ups, breaches and the monthly statistics.

Identity numbers, phones and complaint contacts are masked unless ``clear`` (R20: only the
safety officer's own exports show them). Headers are English, marked for the catalogue;
the web translates them. Times are written in the site's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.errors import N_, NotFound, Problem
from zones.idcard import mask
from zones.schema import Breach, Complaint, FollowUp, Incident, Visit, Visitor
from zones.services.queries.people import names
from zones.services.reports import monthly_stats
from zones.workdays import WorkCalendar

Cell = str | int | float | None
REGISTERS = ("visitors", "incidents", "complaints", "follow-ups", "breaches", "stats")


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]]


def register_table(
    session: Session,
    register: str,
    *,
    clear: bool,
    timezone: str,
    month: str | None = None,
    calendar: WorkCalendar | None = None,
) -> Table:
    """The register named ``register`` (one of REGISTERS); ``month`` (YYYY-MM) for "stats"."""
    ctx = _Context(session, clear, timezone)
    if register == "visitors":
        return ctx.visitors()
    if register == "incidents":
        return ctx.incidents()
    if register == "complaints":
        return ctx.complaints()
    if register == "follow-ups":
        return ctx.follow_ups()
    if register == "breaches":
        return ctx.breaches()
    if register == "stats" and month:
        return _stats(monthly_stats(session, month, timezone, calendar))
    raise NotFound(Problem("no-such", what="register", id=register))


@dataclass(frozen=True)
class _Context:
    session: Session
    clear: bool
    timezone: str

    def personal(self, value: str | None) -> str:
        if not value:
            return ""
        return value if self.clear else mask(value)

    def time(self, value: datetime | None) -> str:
        return local(value, self.timezone).strftime("%Y-%m-%d %H:%M") if value else ""

    def visitors(self) -> Table:
        rows = self.session.execute(
            select(Visit, Visitor).join(Visitor, Visitor.id == Visit.visitor_id).order_by(Visit.created_at.desc())
        ).all()
        hosts = names(self.session, {v.host_id for v, _ in rows})
        return Table(
            N_("Visitor register"),
            [N_("Visit"), N_("Name"), N_("Organisation"), N_("Document"), N_("Identity number"), N_("Phone"),
             N_("Host"), N_("Purpose"), N_("State"), N_("Arrived"), N_("Left")],
            [
                [v.id, p.name, p.organisation, p.id_type, self.personal(p.id_number), self.personal(p.phone),
                 hosts.get(v.host_id, ""), v.purpose, v.state, self.time(v.arrived_at), self.time(v.closed_at)]
                for v, p in rows
            ],
        )  # fmt: skip

    def incidents(self) -> Table:
        rows = list(self.session.scalars(select(Incident).order_by(Incident.arrived_at.desc())))
        who = names(self.session, {i.handled_by for i in rows})
        return Table(
            N_("Incidents"),
            [N_("Incident"), N_("Category"), N_("Arrived"), N_("People"), N_("Identity numbers"), N_("Summary"),
             N_("Routed to"), N_("Report due"), N_("State"), N_("Handled by"), N_("Outcome"), N_("Report")],
            [
                [i.id, i.category, self.time(i.arrived_at),
                 "; ".join(f"{p.name} ({p.organisation})" if p.organisation else p.name for p in i.people),
                 "; ".join(self.personal(p.id_number) for p in i.people if p.id_number),
                 i.summary, i.routed_to, i.report_due.isoformat(), i.state,
                 who.get(i.handled_by or 0, ""), i.outcome or "", i.report_text or ""]
                for i in rows
            ],
        )  # fmt: skip

    def complaints(self) -> Table:
        rows = list(self.session.scalars(select(Complaint).order_by(Complaint.registered_at.desc())))
        return Table(
            N_("Complaints"),
            [N_("Complaint"), N_("Registered"), N_("Name"), N_("Contact"), N_("Channel"), N_("Subject"),
             N_("Department"), N_("Text"), N_("Answer due"), N_("Promised date"), N_("State"), N_("Answer"),
             N_("Answered"), N_("Closed"), N_("Follow-up due"), N_("Same matter as")],
            [
                [c.id, self.time(c.registered_at), c.name, self.personal(c.contact), c.channel, c.subject,
                 c.department, c.text, c.answer_due.isoformat(), _day(c.promised_date), c.state,
                 c.answer_text or "", self.time(c.answered_at), self.time(c.closed_at),
                 self.time(c.follow_up_due), c.related_to]
                for c in rows
            ],
        )  # fmt: skip

    def follow_ups(self) -> Table:
        rows = self.session.execute(
            select(FollowUp, Complaint).join(Complaint, Complaint.id == FollowUp.complaint_id).order_by(FollowUp.at)
        ).all()
        who = names(self.session, {f.by for f, _ in rows})
        return Table(
            N_("Follow-ups"),
            [N_("Complaint"), N_("Name"), N_("Contact"), N_("Method"), N_("Satisfaction"), N_("Note"),
             N_("Signed"), N_("By"), N_("At")],
            [
                [c.id, c.name, self.personal(c.contact), f.method, f.satisfaction, f.note,
                 "yes" if f.signature else "", who.get(f.by, ""), self.time(f.at)]
                for f, c in rows
            ],
        )  # fmt: skip

    def breaches(self) -> Table:
        rows = list(self.session.scalars(select(Breach).order_by(Breach.at.desc())))
        who = names(self.session, {b.person_id for b in rows} | {b.seen_by for b in rows})
        return Table(
            N_("Breaches"),
            [N_("Breach"), N_("At"), N_("Person"), N_("Rule"), N_("Severity"), N_("Ban days"), N_("Seen by"),
             N_("Note")],
            [
                [b.id, self.time(b.at), who.get(b.person_id, ""), b.rule, b.severity, b.days,
                 who.get(b.seen_by, ""), b.note]
                for b in rows
            ],
        )  # fmt: skip


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _stats(data: dict[str, Any]) -> Table:
    """The monthly statistics flattened to (section, item, value) rows."""
    rows: list[list[Cell]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):  # ranked rows, e.g. breaches by escort: one row each
            for n, inner in enumerate(value, 1):
                walk(f"{prefix}.{n}", inner)
        else:
            section, _, item = prefix.partition(".")
            rows.append([section, item, value])

    walk("", {k: v for k, v in data.items() if k != "month"})
    return Table(N_("Monthly statistics"), [N_("Section"), N_("Item"), N_("Value")], rows)
