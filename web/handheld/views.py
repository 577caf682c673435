"""Handheld pages for escorts and guards, made for a phone held in one hand: look a card up
(typed, or from a scanner that types and presses Enter) and see per zone "allowed" or every
reason not; "my visitors" with where each one is now; the muster list with one tap per
person (R16). Phone numbers are masked here except for safety officers (R20)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.auth import require, require_login
from web.panel import errors
from web.panel.common import FormErrors, actor, db, domain_errors, init_pages, site
from zones.calendar import local
from zones.rules import decide
from zones.services import page_queries as q
from zones.services import web_queries
from zones.services.site import mark_accounted, read_emergency
from zones.services.site import muster as muster_rows

bp = Blueprint("handheld", __name__, url_prefix="/m")
bp.record_once(lambda state: init_pages(state.app))
errors.register(bp)


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
    results = []
    person = None
    if card:
        now = datetime.now(UTC)
        policy = site().policy
        today = local(now, policy.timezone).date()
        for zone in site().zones.values():
            req = web_queries.entry_request(db(), zone.id, card, escort_card, now, today)
            person = req.person
            results.append((zone, decide(req, zone, policy)))
    return render_template("handheld/lookup.html", card=card, results=results, person=person,
                           escort_card=escort_card, own_card=actor().card)


@bp.get("/visitors")
@require("visitors.read")
def my_visitors() -> Any:
    return render_template("handheld/my_visitors.html", rows=q.escort_visitors(db(), actor().id))


def _muster_context() -> dict[str, Any]:
    rows = muster_rows(db())
    # the missing first, per zone: that is who the escort is looking for
    rows.sort(key=lambda r: (r[0].accounted, r[0].zone, r[1].name))
    missing = sum(1 for p, _, _ in rows if not p.accounted)
    return {"rows": rows, "missing": missing, "state": read_emergency(db())}


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
        mark_accounted(db(), person_id, request.form.get("accounted", "1") == "1")
    return redirect(url_for("handheld.muster") + f"#person-{person_id}")
