"""Visitor entry contact forms (R5): create one with its escorts of record (R10) and the
permissions it grants (R13), the approval queue per department, approve for one's own
departments or revoke. Each department of a form's zones approves for itself (its head or
a safety officer); the service refuses everyone else and the page says why. R5 does not
forbid approving a form one created (the issuer is the department's officer), so the page
marks such a row "you created this form" and asks before approving. The admin names
department heads here too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.auth import require
from web.context import db_session, sitegate
from web.i18n import department_name, department_names, translate
from web.panel.blueprint import bp
from web.panel.common import FormErrors, actor, domain_errors, form_data, local_now, parse_int, parse_local_datetime
from web.permissions import allowed
from zones.errors import NotFound, Problem
from zones.schema import Employee
from zones.services import forms as svc
from zones.services.people import department_head, set_department_head
from zones.services.queries.forms import contact_forms
from zones.services.queries.people import employees
from zones.services.queries.visitors import search_visitors


@bp.get("/forms")
@require("forms.approve")
def forms() -> Any:
    state = request.args.get("state", "pending")
    if state not in ("pending", "approved", "revoked"):
        state = "pending"
    session = db_session()
    zones = sitegate().zones
    departments = {z.id: z.department for z in zones.values()}
    queue = contact_forms(session, departments, state=state)
    me = session.get(Employee, actor().id)
    assert me is not None
    mine = {d for d in queue if svc.may_approve(session, me, d)}
    if not allowed(actor().role, "forms.write"):
        # a department head without the desk's role sees only what they may act on (R5)
        queue = {d: rows for d, rows in queue.items() if d in mine}
    # the approver's own departments first: that is the queue they can act on (R5)
    ordered = sorted(queue.items(), key=lambda kv: (kv[0] not in mine, kv[0]))
    pending = {row.form.id: svc.pending_departments(row.form, zones) for rows in queue.values() for row in rows}
    return render_template("panel/forms.html", queue=ordered, state=state, mine=mine, pending=pending, me=me.id)


@bp.route("/forms/new", methods=["GET", "POST"])
@require("forms.write")
def form_new() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        visitor_id = parse_int(f.get("visitor_id"), "visitor_id", problems)
        escort_ids = [i for i in (parse_int(v, "escort_ids", problems) for v in f.getlist("escort_ids")) if i]
        valid_from = parse_local_datetime(f.get("valid_from"), "valid_from", problems)
        valid_until = parse_local_datetime(f.get("valid_until"), "valid_until", problems)
        if valid_from is None and "valid_from" not in dict(problems):
            problems.append(("valid_from", translate("required")))
        if valid_until is None and "valid_until" not in dict(problems):
            problems.append(("valid_until", translate("required")))
        errors.add(problems)
        if not problems:
            assert visitor_id is not None and valid_from and valid_until
            with domain_errors(errors):
                form = svc.create_contact_form(
                    db_session(),
                    visitor_id=visitor_id,
                    zones=f.getlist("zones"),
                    escort_ids=escort_ids,
                    permissions=f.getlist("permissions"),
                    purpose=f.get("purpose", ""),
                    valid_from=valid_from,
                    valid_until=valid_until,
                    outside_hours=f.get("outside_hours") == "1",
                    created_by=actor().id,
                    known_zones=sitegate().zones,
                )
                flash(translate("Contact form {id} created; it waits for approval.", id=form.id), "success")
                return redirect(url_for("panel.forms"))
    now = local_now().replace(second=0, microsecond=0)
    defaults = {
        "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
    }
    return render_template(
        "panel/form_new.html",
        errors=errors,
        form=form_data(),
        defaults=defaults,
        visitors=search_visitors(db_session()),
        escorts=[e for e in employees(db_session()) if e.department or e.escort_zone_ids],
        zones=list(sitegate().zones.values()),
        permissions=svc.FORM_PERMISSIONS,
        preselect=request.args.get("visitor_id", ""),
    )


@bp.post("/forms/<int:form_id>/approve")
@require("forms.approve")
def form_approve(form_id: int) -> Response:
    approve_and_tell(form_id)
    return redirect(url_for("panel.forms"))


def approve_and_tell(form_id: int) -> None:
    """The caller approves the form for their departments (R5) and is told what it now
    waits for; a refusal becomes a message. The panel and the handheld both use it."""
    with domain_errors(FormErrors()):
        form = svc.approve_contact_form(db_session(), form_id, actor().id, sitegate().zones)
        if form.state == "approved":
            flash(translate("Contact form {id} approved.", id=form_id), "success")
        else:
            waiting = department_names(svc.pending_departments(form, sitegate().zones))
            flash(
                translate(
                    "Contact form {id}: your approval is recorded; waiting for {departments}.",
                    id=form_id,
                    departments=waiting,
                ),
                "success",
            )


@bp.post("/forms/<int:form_id>/revoke")
@require("forms.approve")
def form_revoke(form_id: int) -> Response:
    with domain_errors(FormErrors()):
        svc.revoke_contact_form(
            db_session(), form_id, actor().id, request.form.get("reason", ""), zones=sitegate().zones
        )
        flash(translate("Contact form {id} revoked.", id=form_id), "success")
    return redirect(url_for("panel.forms", state=request.form.get("state", "pending")))


@bp.route("/departments", methods=["GET", "POST"])
@require("departments.write")
def departments() -> Any:
    """The admin names each department's head (R5: they approve its contact forms)."""
    session = db_session()
    known = svc.known_departments(sitegate().config)
    if request.method == "POST":
        with domain_errors(FormErrors()):
            department = request.form.get("department", "")
            if department not in known:
                raise NotFound(Problem("unknown-department", department=department))
            head = request.form.get("employee_id", "")
            set_department_head(session, department, int(head) if head.isdigit() else None)
            flash(translate("Head of {department} saved.", department=department_name(department)), "success")
        return redirect(url_for("panel.departments"))
    return render_template(
        "panel/departments.html",
        heads={d: department_head(session, d) for d in known},
        staff=employees(session),
    )
