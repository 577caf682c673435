"""Reception pages (R21-R23): the incident register (record, the routed department's alerts,
file the report, ban a B person in one step), the complaint register (register, answer or
promise a date, close) with the follow-up page (signature pad in person), and the register
downloads (.xlsx / .csv, masked unless the safety officer downloads, R20). Deadlines are
shown as site-local dates, red when missed; opening a list runs the deadline sweep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from web.api.exports import export_response
from web.auth import current_actor, require
from web.context import db_session, sitegate
from web.i18n import N_, department_name, translate
from web.panel.blueprint import bp
from web.panel.chart import bar_chart
from web.panel.common import FormErrors, actor, domain_errors, local_now, parse_date, parse_int, parse_local_datetime
from zones.schema import Complaint, Employee
from zones.services import reception_complaints as complaints
from zones.services import reception_incidents as incidents
from zones.services import reception_overdue as registers
from zones.services._common import get_or_404
from zones.services.alerts import alerts_for
from zones.services.queries.people import employees, names

PEOPLE_ROWS = 3  # people lines on the record form; more are recorded through the API
REGISTERS = [
    ("visitors", N_("Visitor register")),
    ("incidents", N_("Incidents")),
    ("complaints", N_("Complaints")),
    ("follow-ups", N_("Follow-ups")),
    ("breaches", N_("Breaches")),
]
# stored values of the reception's registers -> the English label shown (then translated)
LABELS: dict[str, str] = {
    "A": N_("A: irrational complaint (customer, resident, neighbour)"),
    "B": N_("B: dismissed or disciplined (former) employee"),
    "C": N_("C: media or authorities unannounced"),
    "other": N_("Other"),
    "open": N_("Open"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
    "in-person": N_("In person"),
    "phone": N_("Phone"),
    "letter": N_("Letter"),
    "incident": N_("Unscheduled arrival"),
    "incident-report-overdue": N_("Incident report overdue"),
    "complaint-overdue": N_("Complaint answer overdue"),
    "follow-up-overdue": N_("Follow-up overdue"),
}


def reception_label(value: str | None) -> str:
    return translate(LABELS.get(value or "", value or ""))


def _sweep() -> tuple[datetime, Any]:
    now = datetime.now(UTC)
    registers.sweep_overdue(db_session(), now, sitegate().policy.timezone)
    return now, local_now().date()


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _alerts() -> list[Any]:
    viewer = db_session().get(Employee, actor().id)
    assert viewer is not None
    return alerts_for(db_session(), viewer, state="open")


def _may_handle(department: str) -> bool:
    who = actor()
    return who.can("reception.handle") and (who.role in ("admin", "safety_officer") or who.department == department)


def _handlers(department: str) -> list[Employee]:
    """Whom a report may name as handling it: the signed-in employee, then the department."""
    me = db_session().get(Employee, actor().id)
    members = employees(db_session(), department=department)
    return ([me] if me is not None else []) + [e for e in members if e.id != actor().id]


def _common() -> dict[str, Any]:
    return {"rl": reception_label, "may_handle": _may_handle, "alerts": _alerts()}


# ---- incidents -------------------------------------------------------------------------


def _back_to_list(errors: FormErrors, endpoint: str) -> Response:
    """These forms sit in a register's list: field errors become flashes, then back to it."""
    for field, message in errors.items():
        if field != "_":
            flash(f"{field}: {message}", "error")
    return redirect(url_for(endpoint))


@bp.route("/incidents", methods=["GET", "POST"])
@require("reception.read")
def incidents_page() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        if not actor().can("reception.write"):
            abort(403)
        f = request.form
        problems: list[tuple[str, str]] = []
        arrived_at = parse_local_datetime(f.get("arrived_at"), "arrived_at", problems)
        people = [
            incidents.PersonIn(
                f.get(f"name{i}", "").strip(), f.get(f"organisation{i}", ""), f.get(f"id_number{i}") or None
            )
            for i in range(PEOPLE_ROWS)
            if f.get(f"name{i}", "").strip()
        ]
        errors.add(problems)
        if not problems:
            with domain_errors(errors):
                incident = incidents.record_incident(
                    db_session(),
                    category=f.get("category", ""),
                    people=people,
                    summary=f.get("summary", ""),
                    arrived_at=arrived_at or datetime.now(UTC),
                    recorded_by=actor().id,
                    settings=sitegate().config.reception,
                    timezone=sitegate().policy.timezone,
                )
                flash(
                    translate(
                        "Incident recorded and routed to {department}; report due {date} (R21).",
                        department=department_name(incident.routed_to),
                        date=incident.report_due.isoformat(),
                    ),
                    "success",
                )
                return redirect(url_for("panel.incidents_page"))
    _, today = _sweep()
    a = request.args
    rows = registers.incidents(
        db_session(),
        today,
        state=a.get("state") or None,
        category=a.get("category") or None,
        overdue=_flag(a.get("overdue")),
    )
    session = db_session()
    return render_template(
        "panel/incidents.html",
        rows=rows,
        today=today,
        args=a,
        errors=errors,
        form=request.form,
        categories=incidents.CATEGORIES,
        people_rows=range(PEOPLE_ROWS),
        handlers={i.id: _handlers(i.routed_to) for i in rows if i.state == "open"},
        names=names(session, {i.handled_by for i in rows}),
        now_local=local_now().strftime("%Y-%m-%dT%H:%M"),
        **_common(),
    )


@bp.post("/incidents/<int:incident_id>/report")
@require("reception.handle")
def incident_report(incident_id: int) -> Response:
    errors = FormErrors()
    f = request.form
    problems: list[tuple[str, str]] = []
    handled_by = parse_int(f.get("handled_by"), "handled_by", problems)
    errors.add(problems)
    if handled_by is not None:
        with domain_errors(errors):
            incidents.file_report(
                db_session(),
                incident_id,
                handled_by=handled_by,
                outcome=f.get("outcome", ""),
                text=f.get("text", ""),
                reported_by=actor().id,
            )
            flash(translate("Report filed; the incident is closed (R21)."), "success")
    return _back_to_list(errors, "panel.incidents_page")


@bp.post("/incidents/<int:incident_id>/ban")
@require("breaches.write")
def incident_ban(incident_id: int) -> Response:
    errors = FormErrors()
    problems: list[tuple[str, str]] = []
    person_id = parse_int(request.form.get("person_id"), "person_id", problems)
    days = parse_int(request.form.get("days"), "days", problems)
    errors.add(problems)
    if person_id is not None and days is not None:
        with domain_errors(errors):
            incidents.ban_from_incident(db_session(), incident_id, person_id, days=days, seen_by=actor().id)
            flash(translate("Banned (R17)."), "success")
    return _back_to_list(errors, "panel.incidents_page")


# ---- complaints ------------------------------------------------------------------------


@bp.route("/complaints", methods=["GET", "POST"])
@require("reception.read")
def complaints_page() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        if not actor().can("reception.write"):
            abort(403)
        f = request.form
        problems: list[tuple[str, str]] = []
        related_to = parse_int(f.get("related_to"), "related_to", problems, required=False)
        errors.add(problems)
        if not problems:
            with domain_errors(errors):
                complaint = complaints.register_complaint(
                    db_session(),
                    name=f.get("name", ""),
                    contact=f.get("contact", ""),
                    channel=f.get("channel", ""),
                    subject=f.get("subject", ""),
                    department=f.get("department", ""),
                    text=f.get("text", ""),
                    related_to=related_to,
                    registered_by=actor().id,
                    settings=sitegate().config.reception,
                    timezone=sitegate().policy.timezone,
                )
                flash(
                    translate("Complaint registered; answer due {date} (R22).", date=complaint.answer_due.isoformat()),
                    "success",
                )
                return redirect(url_for("panel.complaints_page"))
    now, today = _sweep()
    a = request.args
    session = db_session()
    rows = registers.complaint_list(
        session,
        today,
        state=a.get("state") or None,
        department=a.get("department") or None,
        overdue=_flag(a.get("overdue")),
    )
    followed = registers.followed_up_ids(session, [c.id for c in rows])
    tz = sitegate().policy.timezone
    return render_template(
        "panel/complaints.html",
        rows=[
            {
                "c": c,
                "deadline": complaints.answer_deadline(c),
                "overdue": complaints.is_overdue(c, today),
                "late": complaints.answered_late(c, tz),
                "followed": c.id in followed,
                "follow_up_overdue": complaints.follow_up_overdue(c, c.id in followed, now),
                "times": complaints.times_raised(session, c),
            }
            for c in rows
        ],
        args=a,
        errors=errors,
        form=request.form,
        channels=complaints.CHANNELS,
        today=today,
        **_common(),
    )


@bp.post("/complaints/<int:complaint_id>/answer")
@require("reception.handle")
def complaint_answer(complaint_id: int) -> Response:
    errors = FormErrors()
    problems: list[tuple[str, str]] = []
    promised = parse_date(request.form.get("promised_date"), "promised_date", problems)
    errors.add(problems)
    if not problems:
        with domain_errors(errors):
            complaints.answer_complaint(
                db_session(),
                complaint_id,
                text=request.form.get("text", ""),
                promised_date=promised,
                answered_by=actor().id,
                timezone=sitegate().policy.timezone,
            )
            flash(translate("Answer recorded (R22)."), "success")
    return _back_to_list(errors, "panel.complaints_page")


@bp.post("/complaints/<int:complaint_id>/close")
@require("reception.handle")
def complaint_close(complaint_id: int) -> Response:
    errors = FormErrors()
    with domain_errors(errors):
        complaints.close_complaint(
            db_session(), complaint_id, closed_by=actor().id, settings=sitegate().config.reception
        )
        flash(translate("Complaint closed; follow it up (R23)."), "success")
    return redirect(url_for("panel.complaints_page"))


@bp.route("/complaints/<int:complaint_id>/follow-up", methods=["GET", "POST"])
@require("reception.handle")
def complaint_follow_up(complaint_id: int) -> Any:
    complaint = get_or_404(db_session(), Complaint, complaint_id, "complaint")
    errors = FormErrors()
    f = request.form
    if request.method == "POST":
        problems: list[tuple[str, str]] = []
        satisfaction = parse_int(f.get("satisfaction"), "satisfaction", problems)
        errors.add(problems)
        if satisfaction is not None:
            with domain_errors(errors):
                complaints.record_follow_up(
                    db_session(),
                    complaint_id,
                    method=f.get("method", ""),
                    satisfaction=satisfaction,
                    note=f.get("note", ""),
                    signature=f.get("signature") or None,
                    by=actor().id,
                )
                flash(translate("Follow-up recorded (R23)."), "success")
                return redirect(url_for("panel.complaints_page"))
    return render_template("panel/follow_up.html", c=complaint, errors=errors, form=f, rl=reception_label)


# ---- downloads and statistics ----------------------------------------------------------


@bp.get("/exports/<register>.<fmt>")
@require("exports.read")
def export_download(register: str, fmt: str) -> Response:
    """The register as .xlsx or .csv (R20: masked unless the safety officer downloads)."""
    return export_response(register, fmt, request.args.get("month") or None)


@bp.app_template_global()
def reception_exports() -> list[tuple[str, str]]:
    """The register downloads this viewer may use, for the pages' links."""
    who = current_actor()
    return REGISTERS if who is not None and who.can("exports.read") else []


@bp.app_template_global()
def reception_charts(data: dict[str, Any]) -> Markup:
    """The statistics page's charts of R21-R23: incidents by category, complaints, answer
    times in working days and the follow-up rate."""
    answers = data["answer_times"]
    follow = data["follow_up"]
    rate = follow["rate"]
    charts = [
        bar_chart(
            # A, B and C are the regulation's letters; "other" is said in the page's language
            [
                (c if c != "other" else translate(LABELS[c]), data["incidents"]["by_category"].get(c, 0))
                for c in incidents.CATEGORIES
            ],
            title=translate("Incidents by category (R21)"),
        ),
        bar_chart(
            [
                (translate("Complaints"), data["complaints"]["total"]),
                (translate("Raised again"), data["complaints"]["raised_again"]),
                (translate("Answered"), answers["answered"]),
                (translate("Answered late"), answers["late"]),
                (translate("Closed"), follow["closed"]),
                (translate("Followed up"), follow["followed_up"]),
            ],
            title=translate("Complaints and follow-up (R22, R23)"),
            label_width=130,
        ),
        bar_chart(
            [(translate("{n} working days", n=d), n) for d, n in answers["by_working_days"].items()],
            title=translate("Answer times (R22)"),
            label_width=130,
        ),
    ]
    summary = translate(
        "Follow-up rate: {rate} (target 100 %); average answer time: {days} working days.",
        rate="—" if rate is None else f"{rate * 100:.0f} %",
        days="—" if answers["average_working_days"] is None else answers["average_working_days"],
    )
    return Markup("").join([Markup("<p>%s</p>") % summary, *charts])
