"""API: the emergency (R16), the muster list and its accounted marks, gate health.

The web writes the emergency to site_state; the controllers pick it up (exits release,
entries lock). It never drives a turnstile itself.
"""

from __future__ import annotations

from web.api import site_models as m
from web.api.present import person_ref, sees_identity
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from zones import services
from zones.idcard import mask
from zones.services.queries.gates import gate_health
from zones.services.site import MusterRow


@api_route("POST", "/emergency", permission="emergency.write", body=m.EmergencyIn, response=m.EmergencyOut)
def emergency(body: m.EmergencyIn) -> m.EmergencyOut:
    """Start or end the site emergency (R16: the safety officer's button); a reason is
    required to start it."""
    actor = current_actor()
    assert actor is not None
    state = services.set_emergency(db_session(), body.active, body.reason, actor.id)
    return m.EmergencyOut(active=state.emergency_active, since=state.emergency_since, reason=state.emergency_reason)


def _muster_person(row: MusterRow, clear: bool) -> m.MusterPerson:
    presence, person, escort = row
    return m.MusterPerson(
        person=person_ref(person),
        zone=presence.zone,
        escort=person_ref(escort),
        phone_masked=mask(person.phone) if person.phone else None,
        phone=person.phone if clear else None,
        accounted=presence.accounted,
        entered_at=presence.entered_at,
    )


@api_route("GET", "/muster", permission="muster.read", response=m.MusterOut)
def muster() -> m.MusterOut:
    """Who is inside each zone with their escort and (masked) phone, and who is still
    missing from the assembly point (R16)."""
    muster_list = services.muster(db_session())
    clear = sees_identity()
    zones = sitegate().zones
    out_zones = [
        m.MusterZone(zone=z, name=zones[z].name if z in zones else z, people=[_muster_person(r, clear) for r in rows])
        for z, rows in muster_list.by_zone(zones).items()
    ]
    missing = [p for z in out_zones for p in z.people if not p.accounted]
    state = muster_list.emergency
    return m.MusterOut(active=state.emergency_active, since=state.emergency_since, zones=out_zones, missing=missing)


@api_route(
    "POST", "/muster/<int:person_id>/accounted", permission="muster.mark", body=m.AccountedIn, response=m.AccountedOut
)
def accounted(person_id: int, body: m.AccountedIn) -> m.AccountedOut:
    """Mark a person seen at the assembly point (R16); body optional, ``{"accounted": false}`` undoes it."""
    row = services.mark_accounted(db_session(), person_id, body.accounted)
    return m.AccountedOut(person_id=row.person_id, accounted=row.accounted)


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
