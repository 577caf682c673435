"""Dashboard (people on site per zone, gate health, snapshot age), the emergency button
with its confirmation step, and the live muster view (R16)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from web.auth import current_actor, require, require_login
from web.i18n import LANGUAGES, translate
from web.panel.blueprint import bp
from web.panel.common import FormErrors, actor, db, domain_errors, safe_local_path, site
from zones.services import page_queries as q
from zones.services import preferences
from zones.languages import normalise_language
from zones.services.site import mark_accounted, read_emergency, set_emergency
from zones.services.site import muster as muster_rows


@bp.post("/language")
def set_language() -> Response:
    """The header's language switch (part 5): saved as the signed-in employee's language,
    and for this browser session (also before sign-in, on the login page)."""
    lang = normalise_language(request.form.get("lang", ""))
    if lang in LANGUAGES:
        session["lang"] = lang
        who = current_actor()
        if who is not None:
            preferences.set_language(db(), who.id, lang)
    return redirect(safe_local_path(request.form.get("next")) or url_for("panel.index"))


@bp.get("/")
@require_login
def index() -> Any:
    who = actor()
    if who.role in ("escort", "guard"):
        return redirect(url_for("handheld.index"))
    # each block only for a role holding its permission (reception sees neither)
    zones, total, gates, missing_gates = None, 0, None, []
    if who.can("occupancy.read"):
        counts = q.occupancy(db())
        zones = [(z, counts.get(z.id, 0)) for z in site().zones.values()]
        total = sum(counts.values())
    if who.can("gates.read"):
        now = datetime.now(UTC)
        gates = [(g, (now - g.updated_at).total_seconds()) for g in q.gate_health(db())]
        missing_gates = sorted({g.id for g in site().config.gates} - {g.gate_id for g, _ in gates})
    open_visits = len(q.visits(db())) if who.can("visitors.read") else None
    return render_template("panel/dashboard.html", zones=zones, total=total, gates=gates,
                           missing_gates=missing_gates, open_visits=open_visits, emergency=read_emergency(db()))


@bp.route("/emergency", methods=["GET", "POST"])
@require("emergency.write")
def emergency() -> Any:
    """GET: the confirmation page. POST: start (active=1, with a reason) or end it (R16)."""
    state = read_emergency(db())
    errors = FormErrors()
    if request.method == "POST":
        active = request.form.get("active") == "1"
        with domain_errors(errors):
            set_emergency(db(), active, request.form.get("reason", ""), actor().id)
            if active:
                flash(translate("Emergency declared: entries locked, exits released."), "error")
                return redirect(url_for("panel.muster"))
            flash(translate("Emergency ended."), "success")
            return redirect(url_for("panel.index"))
    return render_template("panel/emergency.html", state=state, errors=errors)


def _muster_context() -> dict[str, Any]:
    rows = muster_rows(db())
    by_zone: dict[str, list[Any]] = {}
    for presence, person, escort in rows:
        by_zone.setdefault(presence.zone, []).append((presence, person, escort))
    missing = sum(1 for p, _, _ in rows if not p.accounted)
    return {"by_zone": by_zone, "missing": missing, "total": len(rows), "state": read_emergency(db())}


@bp.get("/muster")
@require("muster.read")
def muster() -> Any:
    return render_template("panel/muster.html", **_muster_context())


@bp.get("/muster/live")
@require("muster.read")
def muster_live() -> Any:
    """The muster list alone, fetched every 2 s by static/live.js."""
    return render_template("panel/_muster_list.html", **_muster_context())


@bp.post("/muster/<int:person_id>/accounted")
@require("muster.mark")
def muster_mark(person_id: int) -> Response:
    errors = FormErrors()
    with domain_errors(errors):
        mark_accounted(db(), person_id, request.form.get("accounted", "1") == "1")
    return redirect(url_for("panel.muster"))
