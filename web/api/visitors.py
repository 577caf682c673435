"""API: visitors (R2 registration, the visitor's full record)."""

from __future__ import annotations

from web.api import models as m
from web.api.present import form_out, visitor_fields, visitor_out
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session
from web.permissions import own_visitors_only
from zones import services
from zones.errors import NotFound, Problem
from zones.services.queries.visitors import is_own_visitor, visitor_record


@api_route(
    "POST", "/visitors", permission="visitors.write", body=m.VisitorIn, response=m.VisitorOut, status=201, errors=(409,)
)
def create_visitor(body: m.VisitorIn) -> m.VisitorOut:
    """Register a visitor (R2); a resident id is checked (GB 11643) and gives the birth date."""
    visitor = services.register_visitor(
        db_session(),
        name=body.name,
        id_type=body.id_type,
        id_number=body.id_number,
        organisation=body.organisation,
        phone=body.phone,
        birth_date=body.birth_date,
    )
    return visitor_out(visitor)


@api_route("GET", "/visitors/<int:visitor_id>", permission="visitors.read", response=m.VisitorDetailOut)
def get_visitor(visitor_id: int) -> m.VisitorDetailOut:
    """A visitor with visits, forms, education, badges, helmets and breaches. An escort sees
    only visitors they escort or host (any other id is a 404, as if unknown)."""
    session = db_session()
    actor = current_actor()
    assert actor is not None
    if own_visitors_only(actor.role) and not is_own_visitor(session, actor.id, visitor_id):
        # the same answer as an unknown id: an escort learns nothing of other visitors
        raise NotFound(Problem("no-such", what="visitor", id=visitor_id))
    record = visitor_record(session, visitor_id)
    return m.VisitorDetailOut(
        **visitor_fields(record.visitor),
        visits=[m.VisitOut.model_validate(v) for v in record.visits],
        forms=[form_out(f) for f in record.forms],
        education=[m.EducationOut.model_validate(e) for e in record.education],
        badges=[m.BadgeOut.model_validate(b) for b in record.badges],
        helmets=[m.HelmetOut.model_validate(h) for h in record.helmets],
        breaches=[m.BreachOut.model_validate(b) for b in record.breaches],
    )
