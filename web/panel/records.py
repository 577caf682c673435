"""Records: education expiring soon (by escort and host), gate events with filters and
every reason (R18), breaches with R13's prohibition and the escort in charge, and bans
(R17), and monthly statistics with a chart, by prohibition and by escort (R19)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from web.api.fields import BAN_DAYS_MAX, EVENT_ID_MAX
from web.auth import require
from web.context import db_session, sitegate
from web.i18n import rule_label, translate
from web.panel.blueprint import bp
from web.panel.chart import bar_chart
from web.panel.common import (
    FormErrors,
    actor,
    day_start,
    domain_errors,
    local_now,
    own_visitors_of,
    parse_date,
    parse_int,
)
from zones.schema import SEVERITIES
from zones.services.breaches import PROHIBITIONS, record_breach
from zones.services.queries.breaches import active_bans
from zones.services.queries.breaches import breaches as breach_rows
from zones.services.queries.education import expiring_education
from zones.services.queries.people import names, people_on_site
from zones.services.reports import monthly_stats, query_events

EXPIRING_DAYS = 14
RULE_IDS = [f"R{i}" for i in range(1, 21)]


@bp.get("/expiring")
@require("visitors.read")
def expiring() -> Any:
    rows = expiring_education(db_session(), local_now().date(), EXPIRING_DAYS, own_visitors_of=own_visitors_of())
    by_escort: dict[str, list[Any]] = {}
    by_host: dict[str, list[Any]] = {}
    for r in rows:
        for name in r.escorts or [""]:
            by_escort.setdefault(name, []).append(r)
        by_host.setdefault(r.host or "", []).append(r)
    return render_template(
        "panel/expiring.html",
        by_escort=sorted(by_escort.items()),
        by_host=sorted(by_host.items()),
        days=EXPIRING_DAYS,
        today=local_now().date(),
    )


# how long after the panel's emergency action the gates' own emergency rows still count as
# following it (a controller picks the change up within its poll interval, R16)
FOLLOW_WINDOW = timedelta(minutes=2)


def journal_items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events page's rows, newest first, with the emergency made readable (R16, R18).

    Declaring or ending the emergency on the panel is one event without a gate, carrying
    who, why and how many were missing (zones.services.site.set_emergency): an "action"
    item. Each controller then records its gates entering or leaving emergency mode, one
    row per gate: those rows are folded into one "gates" item, and into the action they
    followed when it is on the page, older and within ``FOLLOW_WINDOW``. Other events are
    "event" items."""
    items: list[dict[str, Any]] = []
    following: dict[bool, dict[str, Any]] = {}  # active -> the newest gates item not yet attached
    for e in rows:
        if e["kind"] != "emergency":
            items.append({"type": "event", "event": e})
            continue
        active = bool((e["detail"] or {}).get("active"))
        if e["gate"] is not None:
            group = following.get(active)
            if group is None or e["gate"] in group["gates"]:  # a gate twice: an earlier switch
                group = {"type": "gates", "active": active, "at": e["at"], "gates": []}
                items.append(group)
                following[active] = group
            group["gates"].append(e["gate"])
            group["oldest"] = e["at"]
            continue
        action = {"type": "action", "event": e, "active": active, "gates": []}
        group = following.pop(active, None)
        if group is not None and group["oldest"] - e["at"] <= FOLLOW_WINDOW:
            items.remove(group)
            action["gates"] = group["gates"]
        following.pop(not active, None)  # gates switched before this action followed another one
        items.append(action)
    return items


@bp.get("/events")
@require("events.read")
def events() -> Any:
    a = request.args
    problems: list[tuple[str, str]] = []
    since = parse_date(a.get("since"), "since", problems)
    until = parse_date(a.get("until"), "until", problems)
    cursor = parse_int(a.get("cursor"), "cursor", problems, required=False, maximum=EVENT_ID_MAX)
    allowed = {"yes": True, "no": False}.get(a.get("allowed", ""))
    errors = FormErrors()
    errors.add(problems)
    rows, next_cursor = query_events(
        db_session(),
        since=day_start(since) if since else None,
        until=day_start(until + timedelta(days=1)) if until else None,
        gate=a.get("gate") or None,
        zone=a.get("zone") or None,
        allowed=allowed,
        kind=a.get("kind") or None,
        card=(a.get("card") or "").strip().upper() or None,
        limit=100,
        cursor=cursor,
    )
    actors = {(e["detail"] or {}).get("by") for e in rows if e["kind"] == "emergency"}
    people = names(db_session(), {e["person_id"] for e in rows} | {e["escort_id"] for e in rows} | actors)
    return render_template(
        "panel/events.html",
        items=journal_items(rows),
        next_cursor=next_cursor,
        people=people,
        errors=errors,
        args=a,
        gates=[g.id for g in sitegate().config.gates],
        zone_ids=list(sitegate().zones),
    )


@bp.route("/breaches", methods=["GET", "POST"])
@require("breaches.write")
def breaches() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        person_id = parse_int(f.get("person_id"), "person_id", problems)
        days = (
            parse_int(f.get("days"), "days", problems, required=False, maximum=BAN_DAYS_MAX)
            if f.get("severity") == "ban"
            else None
        )
        prohibition = parse_int(f.get("prohibition"), "prohibition", problems, required=False, maximum=7)
        errors.add(problems)
        if not problems:
            assert person_id is not None
            with domain_errors(errors):
                record_breach(
                    db_session(),
                    person_id=person_id,
                    rule=f.get("rule", ""),
                    severity=f.get("severity", ""),
                    seen_by=actor().id,
                    note=f.get("note", ""),
                    days=days,
                    prohibition=prohibition,
                    timezone=sitegate().policy.timezone,
                )
                flash(translate("Breach recorded (R17)."), "success")
                return redirect(url_for("panel.breaches"))
    today = local_now().date()
    form = request.form if request.method == "POST" else {"person_id": request.args.get("person_id")}
    session = db_session()
    rows = breach_rows(session)
    return render_template(
        "panel/breaches.html",
        errors=errors,
        rows=rows,
        escorts=names(session, {r.breach.escort_id for r in rows}),
        prohibitions=list(PROHIBITIONS.items()),
        bans=active_bans(session, today),
        people=people_on_site(session),
        severities=SEVERITIES,
        rules=RULE_IDS,
        form=form,
    )


@bp.get("/stats")
@require("stats.read")
def stats() -> Any:
    month = request.args.get("month") or local_now().strftime("%Y-%m")
    errors = FormErrors()
    data = None
    with domain_errors(errors):
        data = monthly_stats(
            db_session(), month, sitegate().config.site.timezone, sitegate().config.reception.calendar()
        )
    if data is None:
        month = local_now().strftime("%Y-%m")
        data = monthly_stats(
            db_session(), month, sitegate().config.site.timezone, sitegate().config.reception.calendar()
        )
    denials = list(data["denials"]["by_rule"].items())
    denials.sort(key=lambda kv: int(kv[0][1:]) if kv[0][1:].isdigit() else 99)
    # each bar says its rule's name ("R8 Education card"), not the bare id
    chart = bar_chart(
        [(rule_label(rule), n) for rule, n in denials], title=translate("Denials by rule"), label_width=200
    )
    overview = bar_chart(
        [
            (translate("Visits booked"), data["visits"]["booked"]),
            (translate("Arrived"), data["visits"]["arrived"]),
            (translate("Denials"), data["denials"]["total"]),
            (translate("Breaches"), data["breaches"]["total"]),
            (translate("Education given"), data["educations"]["total"]),
        ],
        title=translate("The month at a glance"),
        label_width=130,
    )
    return render_template(
        "panel/stats.html", month=month, data=data, chart=chart, overview=overview, prohibitions=PROHIBITIONS
    )
