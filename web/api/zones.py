"""API: zone checks (the handheld lookup's question, zones.services.card_check),
occupants and anti-passback resets (R15)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from web.api import site_models as m
from web.api.present import facts_ref, person_ref, reason_out
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from web.permissions import lookup_limit
from zones import services
from zones.errors import NotFound
from zones.facts import PersonKind, Zone
from zones.services.card_check import check_card
from zones.services.queries.presence import inside_by_zone


def _zone(zone_id: str) -> Zone:
    zone = sitegate().zones.get(zone_id)
    if zone is None:
        raise NotFound(f"no zone {zone_id!r} in config.toml")
    return zone


@api_route("GET", "/zones/<zone_id>/check", permission="zones.check", query=m.ZoneCheckQuery, response=m.ZoneCheckOut)
def check_zone(zone_id: str, query: m.ZoneCheckQuery) -> m.ZoneCheckOut:
    """Would this card (with this escort card) be let into the zone now (or ``at``)? Lists
    every failing rule; opens nothing."""
    zone = _zone(zone_id)
    at = (query.at or datetime.now(UTC)).astimezone(UTC)
    check = check_card(
        db_session(), [zone], query.card, query.escort_card, sitegate().policy, at, may_know=lookup_limit()
    )[0]
    return m.ZoneCheckOut(
        zone=zone.id,
        allowed=check.decision.allowed,
        reasons=[reason_out(r) for r in check.decision.reasons],
        person=facts_ref(check.person),
        escort=facts_ref(check.escort),
        needs_escort=check.decision.needs_escort,
        at=at,
    )


@api_route("GET", "/zones/<zone_id>/occupants", permission="occupancy.read", response=m.OccupantOut, many=True)
def occupants(zone_id: str) -> list[m.OccupantOut]:
    """Who is recorded inside the zone now (from passages), with their escort and (an
    extension) the end of a visitor's contact form for the zone (R5)."""
    zone = _zone(zone_id)
    return [
        m.OccupantOut(
            person=person_ref(row.person),
            kind=cast(PersonKind, row.person.kind),
            entered_at=row.entered_at,
            escort=person_ref(row.escort),
            accounted=row.accounted,
            form_valid_until=row.form_valid_until,
        )
        for row in inside_by_zone(db_session(), datetime.now(UTC), zone.id).get(zone.id, [])
    ]


@api_route(
    "POST",
    "/zones/<zone_id>/passback-reset",
    permission="passback.reset",
    body=m.PassbackResetIn,
    response=m.PassbackResetOut,
)
def passback_reset(zone_id: str, body: m.PassbackResetIn) -> m.PassbackResetOut:
    """Extension: clear a person's "inside" record for the zone so they may enter again (R15)."""
    zone = _zone(zone_id)
    actor = current_actor()
    assert actor is not None
    cleared = services.reset_passback(db_session(), body.person_id, zone.id, actor.id)
    return m.PassbackResetOut(person_id=body.person_id, zone=zone.id, cleared=cleared)
