"""API: breaches (R17), gate events with a cursor (R18), monthly statistics (R19)."""

from __future__ import annotations

from typing import Any

from web.api import models
from web.api import site_models as m
from web.api.present import person_ref
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from zones import services
from zones.services.queries.people import people_by_id
from zones.services.reports import decode_cursor, encode_cursor


@api_route(
    "POST",
    "/breaches",
    permission="breaches.write",
    body=models.BreachIn,
    response=models.BreachOut,
    status=201,
    errors=(404,),
)
def record_breach(body: models.BreachIn) -> models.BreachOut:
    """Record a breach seen by the caller: ``prohibition`` (1-7) for a breach of R13; the
    escort in charge at that moment is filled in and returned (R17). cancel-visit closes the
    visit, ban bans anyone, employees included, for ``days`` days of the site's calendar."""
    actor = current_actor()
    assert actor is not None
    session = db_session()
    breach = services.record_breach(
        session,
        person_id=body.person_id,
        rule=body.rule,
        severity=body.severity,
        seen_by=actor.id,
        note=body.note,
        days=body.days,
        prohibition=body.prohibition,
        timezone=sitegate().policy.timezone,
    )
    out = models.BreachOut.model_validate(breach)
    out.escort = person_ref(people_by_id(session, [breach.escort_id]).get(breach.escort_id or -1))
    return out


@api_route("GET", "/events", permission="events.read", query=m.EventsQuery, response=m.EventsOut)
def events(query: m.EventsQuery) -> m.EventsOut:
    """Gate records newest first (R18); ``since`` inclusive, ``until`` exclusive; pass
    ``next_cursor`` back as ``cursor`` for the next (older) page. A cursor of the old form
    (before events were paged by time) still continues below its event."""
    session = db_session()
    rows, next_cursor = services.query_events(
        session,
        since=query.since,
        until=query.until,
        gate=query.gate,
        zone=query.zone,
        allowed=query.allowed,
        limit=query.limit,
        cursor=decode_cursor(query.cursor) if query.cursor else None,
    )
    actions = {r["id"]: r["detail"] for r in rows if r["kind"] == "emergency" and r["gate"] is None and r["detail"]}
    people = people_by_id(session, [r["person_id"] for r in rows] + [d.get("by") for d in actions.values()])
    return m.EventsOut(
        events=[
            m.EventOut(
                id=r["id"],
                at=r["at"],
                kind=r["kind"],
                gate=r["gate"],
                zone=r["zone"],
                card=r["card"],
                person=person_ref(people.get(r["person_id"])) if r["person_id"] else None,
                allowed=r["allowed"],
                reasons=list(r["reasons"] or []),
                passed=r["passed"],
                direction=r["direction"],
                emergency=_emergency_action(actions[r["id"]], people) if r["id"] in actions else None,
            )
            for r in rows
        ],
        next_cursor=encode_cursor(next_cursor) if next_cursor is not None else None,
    )


@api_route("GET", "/stats/monthly", permission="stats.read", query=m.StatsQuery, response=m.StatsOut)
def monthly(query: m.StatsQuery) -> m.StatsOut:
    """Visits, denials by rule, breaches (by prohibition and by escort too), education,
    unescorted alerts, incidents, complaints and follow-ups of one month, site timezone (R19)."""
    site = sitegate()
    stats = services.monthly_stats(db_session(), query.month, site.policy.timezone, site.config.reception.calendar())
    return m.StatsOut.model_validate(stats)


def _emergency_action(detail: dict[str, Any], people: dict[int, Any]) -> m.EmergencyActionOut:
    return m.EmergencyActionOut(
        active=bool(detail.get("active")),
        by=person_ref(people.get(detail["by"])) if detail.get("by") else None,
        source=detail.get("source"),
        reason=detail.get("reason") or None,
        missing=detail.get("missing"),
    )
