"""API: zone checks (the handheld lookup), occupants and anti-passback resets (R15).

The check runs the very rules engine the controllers run (zones.rules.decide) on facts
built for that one card by the snapshot's code, and never opens anything: the web does
not talk to hardware.
"""

from __future__ import annotations

from datetime import UTC, datetime

from web.api import site_models as m
from web.api.present import person_ref, reason_out
from web.api.registry import api_route
from web.app import db_session, sitegate
from web.auth import current_actor
from zones import services
from zones.calendar import local
from zones.errors import NotFound
from zones.facts import Zone
from zones.rules import decide
from zones.services import web_queries


def _zone(zone_id: str) -> Zone:
    zone = sitegate().zones.get(zone_id)
    if zone is None:
        raise NotFound(f"no zone {zone_id!r} in config.toml")
    return zone


@api_route("GET", "/zones/<zone_id>/check", permission="zones.check", query=m.ZoneCheckQuery,
           response=m.ZoneCheckOut)
def check_zone(zone_id: str, query: m.ZoneCheckQuery) -> m.ZoneCheckOut:
    """Would this card (with this escort card) be let into the zone now (or ``at``)? Lists
    every failing rule; opens nothing."""
    zone = _zone(zone_id)
    policy = sitegate().policy
    at = (query.at or datetime.now(UTC)).astimezone(UTC)
    session = db_session()
    request = web_queries.entry_request(session, zone.id, query.card, query.escort_card, at,
                                        local(at, policy.timezone).date())
    decision = decide(request, zone, policy)
    people = web_queries.people_by_id(session, [
        request.person.person_id if request.person else None,
        request.escort.person_id if request.escort else None])
    return m.ZoneCheckOut(
        zone=zone.id, allowed=decision.allowed, reasons=[reason_out(r) for r in decision.reasons],
        person=person_ref(people.get(request.person.person_id)) if request.person else None,
        escort=person_ref(people.get(request.escort.person_id)) if request.escort else None,
        needs_escort=decision.needs_escort, at=at)


@api_route("GET", "/zones/<zone_id>/occupants", permission="occupancy.read", response=m.OccupantOut,
           many=True)
def occupants(zone_id: str) -> list[m.OccupantOut]:
    """Who is recorded inside the zone now (from passages), with their escort."""
    zone = _zone(zone_id)
    return [m.OccupantOut(person=person_ref(person), kind=person.kind, entered_at=p.entered_at,  # type: ignore[arg-type]
                          escort=person_ref(escort), accounted=p.accounted)
            for p, person, escort in web_queries.occupants(db_session(), zone.id)]


@api_route("POST", "/zones/<zone_id>/passback-reset", permission="passback.reset", body=m.PassbackResetIn,
           response=m.PassbackResetOut)
def passback_reset(zone_id: str, body: m.PassbackResetIn) -> m.PassbackResetOut:
    """Extension: clear a person's "inside" record for the zone so they may enter again (R15)."""
    zone = _zone(zone_id)
    actor = current_actor()
    assert actor is not None
    cleared = services.reset_passback(db_session(), body.person_id, zone.id, actor.id)
    return m.PassbackResetOut(person_id=body.person_id, zone=zone.id, cleared=cleared)
