"""Visitors: search, register (R2), and the full record (visits, forms, education, badges,
helmets, breaches). Identity and phone numbers are masked except for safety officers (R20);
an escort sees only their own visitors."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from web.auth import require
from web.context import db_session
from web.i18n import translate
from web.panel.blueprint import bp
from web.panel.common import (
    FormErrors,
    actor,
    domain_errors,
    form_data,
    local_now,
    may_see_visitor,
    own_visitors_of,
    parse_date,
    shows_identity,
)
from zones.schema import ID_TYPES
from zones.services.people import register_visitor
from zones.services.queries.visitors import search_visitors
from zones.services.queries.visitors import visitor_record as full_record
from zones.services.site import reset_passback


@bp.get("/visitors")
@require("visitors.read")
def visitors() -> Any:
    text = request.args.get("q", "")
    # R20: only the safety officer may find a visitor by identity or phone number
    by_number = shows_identity()
    rows = search_visitors(db_session(), text, own_visitors_of=own_visitors_of(), by_number=by_number)
    return render_template("panel/visitors.html", rows=rows, text=text, by_number=by_number)


@bp.route("/visitors/new", methods=["GET", "POST"])
@require("visitors.write")
def visitor_new() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        birth = parse_date(f.get("birth_date"), "birth_date", problems)
        errors.add(problems)
        if not problems:
            with domain_errors(errors):
                v = register_visitor(
                    db_session(),
                    name=f.get("name", ""),
                    id_type=f.get("id_type", ""),
                    id_number=f.get("id_number", ""),
                    organisation=f.get("organisation", "").strip(),
                    phone=f.get("phone", "").strip() or None,
                    birth_date=birth,
                )
                flash(translate("Visitor {name} registered.", name=v.name), "success")
                return redirect(url_for("panel.visitor_record", visitor_id=v.id))
    return render_template("panel/visitor_new.html", errors=errors, form=form_data(), id_types=ID_TYPES)


@bp.get("/visitors/<int:visitor_id>")
@require("visitors.read")
def visitor_record(visitor_id: int) -> Any:
    if not may_see_visitor(visitor_id):
        abort(404)  # an escort sees only their own visitors; do not confirm the id exists
    record = full_record(db_session(), visitor_id)
    return render_template("panel/visitor.html", r=record, today=local_now().date())


@bp.post("/visitors/<int:visitor_id>/passback-reset")
@require("passback.reset")
def visitor_passback_reset(visitor_id: int) -> Any:
    """R15: a safety officer clears the visitor's "inside" record so they may enter again."""
    zone = request.form.get("zone", "")
    with domain_errors(FormErrors()):
        if reset_passback(db_session(), visitor_id, zone, actor().id):
            flash(translate("Anti-passback reset: the visitor may enter again (R15)."), "success")
    return redirect(url_for("panel.visitor_record", visitor_id=visitor_id))
