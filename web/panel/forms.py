"""Visitor entry contact forms (R5): create one, the approval queue per department, approve
or revoke. Only the head or a safety officer of each zone's department may approve; the
service refuses everyone else and the page says why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.auth import require
from web.context import db_session, sitegate
from web.i18n import translate
from web.panel.blueprint import bp
from web.panel.common import FormErrors, actor, domain_errors, form_data, local_now, parse_int, parse_local_datetime
from zones.services import forms as svc
from zones.services.queries.forms import contact_forms
from zones.services.queries.people import employees
from zones.services.queries.visitors import search_visitors


@bp.get("/forms")
@require("forms.write")
def forms() -> Any:
    state = request.args.get("state", "pending")
    if state not in ("pending", "approved", "revoked"):
        state = "pending"
    departments = {z.id: z.department for z in sitegate().zones.values()}
    queue = contact_forms(db_session(), departments, state=state)
    mine = actor().department
    # the officer's own department first: that is the queue they can act on (R5)
    ordered = sorted(queue.items(), key=lambda kv: (kv[0] != mine, kv[0]))
    return render_template("panel/forms.html", queue=ordered, state=state, mine=mine)


@bp.route("/forms/new", methods=["GET", "POST"])
@require("forms.write")
def form_new() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        visitor_id = parse_int(f.get("visitor_id"), "visitor_id", problems)
        escort_id = parse_int(f.get("escort_id"), "escort_id", problems)
        valid_from = parse_local_datetime(f.get("valid_from"), "valid_from", problems)
        valid_until = parse_local_datetime(f.get("valid_until"), "valid_until", problems)
        if valid_from is None and "valid_from" not in dict(problems):
            problems.append(("valid_from", translate("required")))
        if valid_until is None and "valid_until" not in dict(problems):
            problems.append(("valid_until", translate("required")))
        errors.add(problems)
        if not problems:
            assert visitor_id is not None and escort_id is not None and valid_from and valid_until
            with domain_errors(errors):
                form = svc.create_contact_form(
                    db_session(),
                    visitor_id=visitor_id,
                    zones=f.getlist("zones"),
                    escort_id=escort_id,
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
        escorts=employees(db_session(), escorts_only=True),
        zones=list(sitegate().zones.values()),
        preselect=request.args.get("visitor_id", ""),
    )


@bp.post("/forms/<int:form_id>/approve")
@require("forms.approve")
def form_approve(form_id: int) -> Response:
    with domain_errors(FormErrors()):
        svc.approve_contact_form(db_session(), form_id, actor().id, sitegate().zones)
        flash(translate("Contact form {id} approved.", id=form_id), "success")
    return redirect(url_for("panel.forms"))


@bp.post("/forms/<int:form_id>/revoke")
@require("forms.approve")
def form_revoke(form_id: int) -> Response:
    with domain_errors(FormErrors()):
        svc.revoke_contact_form(db_session(), form_id, actor().id, request.form.get("reason", ""))
        flash(translate("Contact form {id} revoked.", id=form_id), "success")
    return redirect(url_for("panel.forms", state=request.form.get("state", "pending")))
