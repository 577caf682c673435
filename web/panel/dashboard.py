"""Dashboard (open alerts, who is inside each zone, gate health with escort waits and
confirmations; live every 2 s), the emergency button with its confirmation step, and the
live muster view (R16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from math import ceil
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from web.auth import current_actor, require, require_login
from web.context import db_session, sitegate
from web.i18n import LANGUAGES, translate
from web.panel.blueprint import bp
from web.panel.common import FormErrors, actor, domain_errors, own_visitors_of, safe_local_path
from zones.config import GateSection
from zones.languages import normalise_language
from zones.schema import GateHealth
from zones.services import preferences
from zones.services._common import employee
from zones.services.custody import alerts_concerning, with_people
from zones.services.queries.gates import gate_health
from zones.services.queries.people import people_by_id
from zones.services.queries.presence import inside_by_zone
from zones.services.queries.visits import count_open_visits
from zones.services.site import count_missing, mark_accounted, read_emergency, set_emergency
from zones.services.site import muster as muster_list


@bp.post("/language")
def set_language() -> Response:
    """The header's language switch: saved as the signed-in employee's language,
    and for this browser session (also before sign-in, on the login page)."""
    lang = normalise_language(request.form.get("lang", ""))
    if lang in LANGUAGES:
        session["lang"] = lang
        who = current_actor()
        if who is not None:
            preferences.set_language(db_session(), who.id, lang)
    return redirect(safe_local_path(request.form.get("next")) or url_for("panel.index"))


@bp.get("/")
@require_login
def index() -> Any:
    who = actor()
    if who.role in ("escort", "guard"):
        return redirect(url_for("handheld.index"))
    return render_template("panel/dashboard.html", emergency=read_emergency(db_session()), **_dashboard_context())


@bp.get("/live")
@require_login
def dashboard_live() -> Any:
    """The dashboard's live part alone, fetched every 2 s by static/live.js (as the muster)."""
    return render_template("panel/_dashboard_live.html", **_dashboard_context())


# a gate card shows an escort's confirmation (R10) this long after it, then only what is on now
CONFIRMED_SHOWN_S = 60.0


@dataclass(frozen=True)
class GateCard:
    """One configured gate on the dashboard: its controller's latest health report (None:
    no report yet), the visitors waiting there for their escort (name, seconds left) and
    the latest escort confirmation still shown (escort's name, visitors' names, when)."""

    gate: GateSection
    health: GateHealth | None
    report_age_s: float
    waiting: list[tuple[str, int]]
    confirmed: tuple[str, list[str], datetime] | None


def _gate_cards(now: datetime) -> list[GateCard]:
    health = gate_health(db_session())
    details = [h.detail or {} for h in health.values()]
    ids = [w.get("person_id") for d in details for w in d.get("waiting") or []]
    for d in details:
        c = d.get("confirmed") or {}
        ids += [c.get("escort_id"), *(c.get("visitors") or [])]
    names = {i: p.name for i, p in people_by_id(db_session(), ids).items()}  # R20: names only
    cards = []
    for gate in sitegate().config.gates:
        h = health.get(gate.id)
        d = (h.detail or {}) if h else {}
        waiting = []
        for w in d.get("waiting") or []:
            left = (datetime.fromisoformat(w["until"]) - now).total_seconds()
            if left > 0:
                waiting.append((names.get(w.get("person_id"), "?"), ceil(left)))
        c, confirmed = d.get("confirmed"), None
        if c and (now - (at := datetime.fromisoformat(c["at"]))).total_seconds() < CONFIRMED_SHOWN_S:
            confirmed = (names.get(c.get("escort_id"), "?"), [names.get(v, "?") for v in c.get("visitors") or []], at)
        age = (now - h.updated_at).total_seconds() if h else 0.0
        cards.append(GateCard(gate, h, age, waiting, confirmed))
    return cards


def _dashboard_context() -> dict[str, Any]:
    """Each block only for a role holding its permission (reception sees neither)."""
    who, now = actor(), datetime.now(UTC)
    zones, total, gates = None, 0, None
    if who.can("occupancy.read"):
        inside = inside_by_zone(db_session(), now)
        zones = [(z, inside.get(z.id, [])) for z in sitegate().zones.values()]
        total = sum(len(people) for people in inside.values())
    if who.can("gates.read"):
        gates = _gate_cards(now)
    open_visits = count_open_visits(db_session()) if who.can("visitors.read") else None
    alerts = None
    if who.can("alerts.read"):  # R10 unescorted visitors and whatever else concerns the viewer
        me = employee(db_session(), who.id)
        alerts = with_people(db_session(), alerts_concerning(db_session(), me, state="open"))
    return {"zones": zones, "total": total, "gates": gates, "open_visits": open_visits, "alerts": alerts, "now": now}


@bp.route("/emergency", methods=["GET", "POST"])
@require("emergency.write")
def emergency() -> Any:
    """GET: the confirmation page: declaring asks for a reason; ending says how many are
    still missing ("1 person still missing: end anyway?") and then needs a reason too.
    POST: start (active=1) or end it (R16); refused with the reason field marked when the
    service wants one (zones.services.site.set_emergency), nothing changed."""
    state = read_emergency(db_session())
    errors = FormErrors()
    if request.method == "POST":
        active = request.form.get("active") == "1"
        with domain_errors(errors):
            set_emergency(db_session(), active, request.form.get("reason", ""), actor().id)
            if active:
                flash(translate("Emergency declared: entries locked, exits released."), "error")
                return redirect(url_for("panel.muster"))
            flash(translate("Emergency ended."), "success")
            return redirect(url_for("panel.index"))
        state = read_emergency(db_session())
    missing = count_missing(db_session()) if state.emergency_active else 0
    return render_template("panel/emergency.html", state=state, errors=errors, missing=missing)


def _muster_context() -> dict[str, Any]:
    m = muster_list(db_session())
    return {
        "by_zone": m.by_zone(),
        "missing": len(m.missing),
        "total": len(m.rows),
        "state": m.emergency,
        "phones_clear": m.phones_in_clear(actor().id),  # the escort of record, in an emergency (R16)
    }


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
        accounted = request.form.get("accounted", "1") == "1"
        mark_accounted(db_session(), person_id, accounted, by=actor().id, escort_id=own_visitors_of())
    return redirect(url_for("panel.muster"))
