"""Handheld pages for escorts and guards, made for a phone held in one hand: look a card up
(typed, or from a scanner that types and presses Enter) and see per zone "allowed" or every
reason not; "my visitors" with where each one is now; the muster list with one tap per
person (R16); the open unescorted-visitor alerts with one tap to take the visitor over
(R10). Phone numbers are masked here except for safety officers (R20), and for a visitor's
escort of record while an emergency is active (R16: they may need to call them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.auth import require, require_login
from web.context import db_session, sitegate
from web.errors import register_page_errors
from web.i18n import translate
from web.panel.common import FormErrors, actor, domain_errors, init_pages, own_visitors_of
from web.permissions import lookup_limit
from zones.services._common import employee
from zones.services.card_check import check_card
from zones.services.custody import UNESCORTED, alerts_concerning, take_over, with_people
from zones.services.queries.visitors import escort_visitors
from zones.services.site import escorts_own, mark_accounted
from zones.services.site import muster as muster_list

bp = Blueprint("handheld", __name__, url_prefix="/m")
bp.record_once(lambda state: init_pages(cast(Flask, state.app)))  # a Flask app registers the blueprint
register_page_errors(bp)


@bp.get("/")
@require_login
def index() -> Response:
    return redirect(url_for("handheld.lookup"))


@bp.get("/lookup")
@require("zones.check")
def lookup() -> Any:
    """Every zone's decision for the card, with the signed-in employee's own card as the
    escort card (the escort stands at the gate with the visitor, R10) unless another escort
    card is given (a guard checking a pair). Opens nothing."""
    card = request.args.get("card", "").strip().upper()
    escort_card = request.args.get("escort", "").strip().upper() or actor().card
    checks = []
    if card:
        site = sitegate()
        checks = check_card(
            db_session(),
            site.zones.values(),
            card,
            escort_card,
            site.policy,
            datetime.now(UTC),
            may_know=lookup_limit(),
        )
    return render_template(
        "handheld/lookup.html",
        card=card,
        results=[(c.zone, c.decision) for c in checks],
        person=checks[0].person if checks else None,
        escort_card=escort_card,
        own_card=actor().card,
    )


@bp.get("/visitors")
@require("visitors.read")
def my_visitors() -> Any:
    return render_template("handheld/my_visitors.html", rows=escort_visitors(db_session(), actor().id))


def _muster_context() -> dict[str, Any]:
    """The muster (R16); an escort's own visitors come first and are the ones they mark."""
    m = muster_list(db_session())
    rows = m.missing_first()
    mine = None
    me = own_visitors_of()
    if me is not None:
        mine = escorts_own(db_session(), rows, me)
        rows.sort(key=lambda r: r.person.id not in mine)  # stable: missing first within each group
    return {
        "rows": rows,
        "missing": len(m.missing),
        "state": m.emergency,
        "mine": mine,
        "phones_clear": m.phones_in_clear(actor().id),  # the escort of record, in an emergency (R16)
    }


@bp.get("/muster")
@require("muster.read")
def muster() -> Any:
    return render_template("handheld/muster.html", **_muster_context())


@bp.get("/muster/live")
@require("muster.read")
def muster_live() -> Any:
    """The muster list alone, fetched every 2 s by static/live.js (R16)."""
    return render_template("handheld/_muster_list.html", **_muster_context())


@bp.post("/muster/<int:person_id>/accounted")
@require("muster.mark")
def muster_mark(person_id: int) -> Response:
    with domain_errors(FormErrors()):
        accounted = request.form.get("accounted", "1") == "1"
        mark_accounted(db_session(), person_id, accounted, by=actor().id, escort_id=own_visitors_of())
    return redirect(url_for("handheld.muster") + f"#person-{person_id}")


@bp.get("/alerts")
@require("alerts.read")
def alerts() -> Any:
    """The open unescorted-visitor alerts the signed-in employee is concerned by (R10)."""
    session = db_session()
    me = employee(session, actor().id)
    rows = with_people(session, alerts_concerning(session, me, state="open", kind=UNESCORTED))
    return render_template("handheld/alerts.html", rows=rows, me=me)


@bp.post("/alerts/<int:alert_id>/take-over")
@require("alerts.take_over")
def alert_take_over(alert_id: int) -> Response:
    """R10: the signed-in escort takes the visitor over, or hands them to the escort whose
    card is given (the escort who left, or a safety officer)."""
    errors = FormErrors()
    site = sitegate()
    with domain_errors(errors):
        alert = take_over(
            db_session(),
            alert_id,
            by=actor().id,
            escort_card=request.form.get("escort_card", "").strip() or None,
            policy=site.policy,
        )
        escort = employee(db_session(), int(alert.detail["taken_over_by"]))
        flash(translate("Taken over: the visitor is now in the charge of {escort}.", escort=escort.name), "success")
    for message in errors.values():
        flash(message, "error")
    return redirect(url_for("handheld.alerts"))
