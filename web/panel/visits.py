"""Visits: book (R1), walk-in exception (R1), check in with the identity document (R2),
badges (R3), helmets (R12) and check-out, which lists what is still out (R4, R12)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from web.auth import require
from web.context import db_session
from web.i18n import current_language, error_text, translate
from web.panel.blueprint import bp
from web.panel.common import (
    FormErrors,
    actor,
    domain_errors,
    form_data,
    own_visitors_of,
    parse_int,
    parse_local_datetime,
    safe_local_path,
)
from zones.errors import Conflict, Problem
from zones.services import items
from zones.services import visits as svc
from zones.services.queries.people import employees
from zones.services.queries.visitors import search_visitors
from zones.services.queries.visits import open_visits


def _back(default: str = "panel.visits") -> Response:
    return redirect(safe_local_path(request.form.get("next")) or url_for(default))


# the visit whose check-in number did not match, marked on the list after the redirect
_MISMATCH = "check_in_mismatch"


@bp.get("/visits")
@require("visitors.read")
def visits() -> Any:
    rows = open_visits(db_session(), own_visitors_of=own_visitors_of())
    errors, error_visit = FormErrors(), session.pop(_MISMATCH, None)
    if error_visit is not None:
        errors.add([("id_number", Problem("id-mismatch"))])
    return render_template("panel/visits.html", rows=rows, errors=errors, error_visit=error_visit)


@bp.route("/visits/new", methods=["GET", "POST"])
@require("visits.write")
def visit_new() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        visitor_id = parse_int(f.get("visitor_id"), "visitor_id", problems)
        host_id = parse_int(f.get("host_id"), "host_id", problems)
        expected = parse_local_datetime(f.get("expected_at"), "expected_at", problems)
        errors.add(problems)
        if not problems:
            assert visitor_id is not None and host_id is not None
            with domain_errors(errors):
                svc.book_visit(
                    db_session(),
                    visitor_id=visitor_id,
                    host_id=host_id,
                    purpose=f.get("purpose", ""),
                    expected_at=expected,
                    booked_ahead=f.get("walk_in") != "1",
                )
                flash(translate("Visit booked."), "success")
                return redirect(url_for("panel.visits"))
    return render_template(
        "panel/visit_new.html",
        errors=errors,
        form=form_data(),
        visitors=search_visitors(db_session()),
        hosts=employees(db_session()),
        preselect=request.args.get("visitor_id", ""),
    )


@bp.post("/visits/<int:visit_id>/check-in")
@require("visits.write")
def visit_check_in(visit_id: int) -> Response:
    errors = FormErrors()
    with domain_errors(errors):
        svc.check_in(db_session(), visit_id, request.form.get("id_number", ""))
        flash(translate("Checked in."), "success")
    if "id_number" in errors:
        # R2: one banner (domain_errors') and, on the list, that row's number field marked
        # with why; after a redirect, so a reload or the language switch sends nothing again
        session[_MISMATCH] = visit_id
    return _back()


@bp.post("/visits/<int:visit_id>/check-out")
@require("visits.write")
def visit_check_out(visit_id: int) -> Response:
    try:
        svc.check_out(db_session(), visit_id)
    except Conflict as err:
        db_session().rollback()
        if err.items:  # R12: what must come back first
            sep = "，" if current_language() == "zh" else ", "
            flash(
                translate("Cannot check out yet; still out: {items}", items=sep.join(map(error_text, err.items))),
                "error",
            )
        else:
            flash(error_text(err), "error")
    else:
        flash(translate("Checked out; the visit is closed."), "success")
    return _back()


@bp.post("/visits/<int:visit_id>/walk-in")
@require("forms.approve")
def visit_walk_in(visit_id: int) -> Response:
    with domain_errors(FormErrors()):
        svc.walk_in_exception(db_session(), visit_id, actor().id, request.form.get("reason", ""))
        flash(translate("Walk-in exception recorded (R1)."), "success")
    return _back()


@bp.post("/visits/<int:visit_id>/badge")
@require("badges.write")
def visit_badge(visit_id: int) -> Response:
    with domain_errors(FormErrors()):
        b = items.issue_badge(db_session(), visit_id, request.form.get("card", ""))
        flash(translate("Badge {card} issued.", card=b.card), "success")
    return _back()


@bp.post("/badges/<card>/<any(return, lost):action>")
@require("badges.write")
def badge_action(card: str, action: str) -> Response:
    with domain_errors(FormErrors()):
        if action == "return":
            items.return_badge(db_session(), card)
            flash(translate("Badge {card} returned.", card=card), "success")
        else:
            items.report_badge_lost(db_session(), card)
            flash(translate("Badge {card} reported lost: blocked at every reader (R3).", card=card), "success")
    return _back()


@bp.post("/helmets/<any(issue, return):action>")
@require("helmets.write")
def helmet_action(action: str) -> Response:
    errors = FormErrors()
    problems: list[tuple[str, str]] = []
    visitor_id = parse_int(request.form.get("visitor_id"), "visitor_id", problems)
    helmet_no = request.form.get("helmet_no", "")
    if visitor_id is not None:
        with domain_errors(errors):
            if action == "issue":
                items.issue_helmet(db_session(), visitor_id, helmet_no)
                flash(translate("Helmet {no} issued (R12).", no=helmet_no.strip()), "success")
            else:
                items.return_helmet(db_session(), visitor_id, helmet_no)
                flash(translate("Helmet {no} returned.", no=helmet_no.strip()), "success")
    return _back()
