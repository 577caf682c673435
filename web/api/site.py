"""API: the emergency (R16), the muster list and its accounted marks, gate health.

The web writes the emergency to site_state; the controllers pick it up (exits release,
entries lock). It never drives a turnstile itself.
"""

from __future__ import annotations

from typing import cast, overload

from web.api import site_models as m
from web.api.models import PersonRef
from web.api.present import sees_identity
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from web.permissions import own_visitors_only
from zones import services
from zones.facts import PersonKind
from zones.idcard import mask
from zones.services.queries.gates import gate_health
from zones.services.site import MusterRow, Who

# the muster's group of visitors checked in but not inside any gated zone (contract.md)
OUTSIDE_ZONES_NAME = "on site, not in a gated zone"


@api_route("POST", "/emergency", permission="emergency.write", body=m.EmergencyIn, response=m.EmergencyOut)
def emergency(body: m.EmergencyIn) -> m.EmergencyOut:
    """Start or end the site emergency (R16: the safety officer's button); a reason is
    required to start it, and to end it while people are still missing (422 on ``reason``)."""
    actor = current_actor()
    assert actor is not None
    state = services.set_emergency(db_session(), body.active, body.reason, actor.id)
    return m.EmergencyOut(active=state.emergency_active, since=state.emergency_since, reason=state.emergency_reason)


@overload
def _ref(who: Who) -> PersonRef: ...
@overload
def _ref(who: Who | None) -> PersonRef | None: ...
def _ref(who: Who | None) -> PersonRef | None:
    return None if who is None else PersonRef(id=who.id, name=who.name, kind=cast(PersonKind, who.kind))


def _muster_person(row: MusterRow, clear: bool) -> m.MusterPerson:
    phone = row.person.phone
    return m.MusterPerson(
        person=_ref(row.person),
        zone=row.zone,
        escort=_ref(row.escort),
        host=_ref(row.host),
        phone_masked=mask(phone) if phone else None,
        phone=phone if clear else None,
        accounted=row.accounted,
        entered_at=row.entered_at,
        marked_by=_ref(row.marked_by),
        marked_at=row.marked_at,
    )


def zone_title(zone: str | None) -> str:
    """A muster group's name: the zone's, or the place of visitors outside the zones (R16)."""
    if zone is None:
        return OUTSIDE_ZONES_NAME
    zones = sitegate().zones
    return zones[zone].name if zone in zones else zone


@api_route("GET", "/muster", permission="muster.read", response=m.MusterOut)
def muster() -> m.MusterOut:
    """Who is inside each zone with their escort and (masked) phone, the visitors on site
    but not in a gated zone (``zone`` null) with their host and escort, and who is still
    missing from the assembly point (R16)."""
    muster_list = services.muster(db_session())
    actor = current_actor()
    assert actor is not None
    everyone = sees_identity()
    clear = muster_list.phones_in_clear(actor.id)  # the escort of record, in an emergency
    out_zones = [
        m.MusterZone(
            zone=z, name=zone_title(z), people=[_muster_person(r, everyone or r.person.id in clear) for r in rows]
        )
        for z, rows in muster_list.by_zone(sitegate().zones).items()
    ]
    missing = [p for z in out_zones for p in z.people if not p.accounted]
    state = muster_list.emergency
    return m.MusterOut(
        active=state.emergency_active,
        since=state.emergency_since,
        reason=state.emergency_reason,
        zones=out_zones,
        missing=missing,
    )


@api_route(
    "POST", "/muster/<int:person_id>/accounted", permission="muster.mark", body=m.AccountedIn, response=m.AccountedOut
)
def accounted(person_id: int, body: m.AccountedIn) -> m.AccountedOut:
    """Mark a person seen at the assembly point (R16); body optional, ``{"accounted": false}``
    undoes it. Escorts mark their own visitors only (403 otherwise); wardens mark anyone."""
    actor = current_actor()
    assert actor is not None
    only = actor.id if own_visitors_only(actor.role) else None
    row = services.mark_accounted(db_session(), person_id, body.accounted, by=actor.id, escort_id=only)
    return m.AccountedOut(person_id=row.person.id, accounted=row.accounted)


@api_route("GET", "/gates", permission="gates.read", response=m.GateOut, many=True)
def gates() -> list[m.GateOut]:
    """Extension: every configured gate with its controller's latest health report."""
    site = sitegate()
    health = gate_health(db_session())
    out = []
    for gate in site.config.gates:
        h = health.get(gate.id)
        out.append(
            m.GateOut(
                id=gate.id,
                zone=gate.zone,
                direction=gate.direction,
                state=h.state if h else None,
                updated_at=h.updated_at if h else None,
                snapshot_age_s=h.snapshot_age_s if h else None,
                controller=h.controller if h else None,
                detail=h.detail if h else {},
            )
        )
    return out
