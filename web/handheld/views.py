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
from web.context import db_session, sitegate
from web.errors import register_page_errors
from web.panel.common import FormErrors, actor, domain_errors, init_pages
from web.permissions import lookup_limit
from zones.services.card_check import check_card
from zones.services.queries.visitors import escort_visitors
from zones.services.site import mark_accounted
from zones.services.site import muster as muster_list

bp = Blueprint("handheld", __name__, url_prefix="/m")
bp.record_once(lambda state: init_pages(state.app))
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
    m = muster_list(db_session())
    return {"rows": m.missing_first(), "missing": len(m.missing), "state": m.emergency}


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
        mark_accounted(db_session(), person_id, request.form.get("accounted", "1") == "1")
    return redirect(url_for("handheld.muster") + f"#person-{person_id}")
