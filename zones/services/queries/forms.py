"""Queries about contact forms: the approval queue per department (R5)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.schema import ContactForm, Visitor
from zones.services.queries.people import names


@dataclass
class FormRow:
    form: ContactForm
    visitor: Visitor
    escort: str
    departments: list[str]


def contact_forms(
    session: Session, zone_departments: dict[str, str], *, state: str = "pending", limit: int = 200
) -> dict[str, list[FormRow]]:
    """Contact forms in ``state``, newest first, grouped by the department owning their
    zones (R5 approval queue per department); a form spanning two departments appears under
    both. ``zone_departments`` maps zone id -> department (config)."""
    rows = session.execute(
        select(ContactForm, Visitor)
        .join(Visitor, Visitor.id == ContactForm.visitor_id)
        .where(ContactForm.state == state)
        .order_by(ContactForm.id.desc())
        .limit(limit)
    ).all()
    escorts = names(session, {f.escort_id for f, _ in rows})
    out: dict[str, list[FormRow]] = {}
    for form, visitor in rows:
        depts = sorted({zone_departments.get(z, "?") for z in form.zone_ids})
        row = FormRow(form, visitor, escorts.get(form.escort_id or -1, ""), depts)
        for d in depts:
            out.setdefault(d, []).append(row)
    return dict(sorted(out.items()))
