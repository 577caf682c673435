"""API: alerts (GET /alerts) and the take-over of unescorted visitors (R10,
POST /alerts/{id}/take-over).

Each caller sees the alerts they are concerned by (zones.services.custody.alerts_concerning);
an alert they are not concerned by answers 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from web.api import models as m
from web.api.present import person_ref
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from zones.schema import Alert
from zones.services._common import employee
from zones.services.custody import alerts_concerning, take_over, with_people


class AlertsQuery(m.In):
    state: Literal["open", "closed"] | None = None
    kind: str | None = Field(None, max_length=30, description='e.g. "unescorted", "incident"')


class AlertOut(m.Out):
    id: int
    kind: str
    opened_at: datetime
    closed_at: datetime | None
    zone: str | None
    person: m.PersonRef | None
    escort: m.PersonRef | None
    detail: dict[str, Any]


class TakeOverIn(m.In):
    escort_card: str | None = Field(None, description="the new escort's card")
    escort_id: int | None = Field(None, description="the new escort; default: the caller")

    @model_validator(mode="after")
    def _one_escort(self) -> TakeOverIn:
        if self.escort_card and self.escort_id is not None:
            raise ValueError("give escort_card or escort_id, not both")
        return self


def alert_out(alerts: list[Alert]) -> list[AlertOut]:
    return [
        AlertOut(
            id=a.id,
            kind=a.kind,
            opened_at=a.opened_at,
            closed_at=a.closed_at,
            zone=a.zone,
            person=person_ref(person),
            escort=person_ref(escort),
            detail={**a.detail, "note": a.close_note} if a.close_note else dict(a.detail),
        )
        for a, person, escort in with_people(db_session(), alerts)
    ]


@api_route("GET", "/alerts", permission="alerts.read", query=AlertsQuery, response=AlertOut, many=True)
def alerts(query: AlertsQuery) -> list[AlertOut]:
    """The alerts the caller is concerned by, newest first (R10 unescorted visitors, R21-R23)."""
    actor = current_actor()
    assert actor is not None
    session = db_session()
    return alert_out(alerts_concerning(session, employee(session, actor.id), state=query.state, kind=query.kind))


@api_route(
    "POST",
    "/alerts/<int:alert_id>/take-over",
    permission="alerts.take_over",
    body=TakeOverIn,
    response=AlertOut,
    errors=(404, 409),
)
def take_over_alert(alert_id: int, body: TakeOverIn) -> AlertOut:
    """Another authorised escort takes the unescorted visitor over (R10); the alert closes."""
    actor = current_actor()
    assert actor is not None
    site = sitegate()
    alert = take_over(
        db_session(),
        alert_id,
        by=actor.id,
        escort_id=body.escort_id,
        escort_card=body.escort_card,
        policy=site.policy,
    )
    return alert_out([alert])[0]
