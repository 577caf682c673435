"""Breaches of the site rules and their sanctions (R13, R17): warning, cancellation of the
visit, or a ban for N days counted in the site's calendar. A breach of R13 names the
numbered prohibition broken; a visitor's breach names the escort in charge at that moment,
who is held accountable with them. A breach may name an employee: bringing someone in
unregistered counts against the responsible employee, and a ban binds employees too."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.calendar import local
from zones.errors import N_, Problem, ValidationFailed
from zones.schema import SEVERITIES, Ban, Breach, ContactForm, Person, Presence, Visit
from zones.services._common import employee, get_or_404, record_change, utcnow
from zones.services.visits import _close, items_out

_RULE = re.compile(r"^(R([1-9]|1[0-9]|20)|E1)$")
# R13's seven prohibitions in the regulation's own words, as printed on the education card
PROHIBITIONS: dict[int, str] = {
    1: N_("No fire sources and no flammable or explosive articles."),
    2: N_("No use of mobile phones; no cameras or other non-explosion-proof electrical devices without permission."),
    3: N_("Do not touch or operate equipment, facilities or tools."),
    4: N_("Wear the clothing and protective equipment the zone requires."),
    5: N_("No private vehicles inside."),
    6: N_("No minors."),
    7: N_("Never without the escort."),
}


def escort_in_charge(session: Session, visitor_id: int, now: datetime) -> int | None:
    """R17: the escort the visitor is in the charge of at ``now``: the one they passed the
    gate with (presence), else the first escort named on an approved form valid now."""
    inside = session.get(Presence, visitor_id)
    if inside is not None and inside.escort_id is not None:
        return inside.escort_id
    return session.scalars(
        select(ContactForm.escort_id)
        .where(
            ContactForm.visitor_id == visitor_id,
            ContactForm.state == "approved",
            ContactForm.valid_from <= now,
            ContactForm.valid_until >= now,
            ContactForm.escort_id.is_not(None),
        )
        .order_by(ContactForm.id.desc())
    ).first()


def record_breach(
    session: Session,
    *,
    person_id: int,
    rule: str,
    severity: str,
    seen_by: int,
    note: str = "",
    days: int | None = None,
    prohibition: int | None = None,
    timezone: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Breach:
    """Record a breach seen by ``seen_by``; ``prohibition`` (1-7) is required for rule R13
    and refused for any other. ``cancel-visit`` closes the visitor's open visit; ``ban`` bans
    the person, visitor or employee, for ``days`` days from the site-local today (and closes
    an open visit). The escort in charge is filled in for a visitor (escort_in_charge)."""
    person = get_or_404(session, Person, person_id, "person")
    problems: list[tuple[str, str]] = []
    if not _RULE.match(rule):
        problems.append(("rule", Problem("rule-id")))
    if severity not in SEVERITIES:
        problems.append(("severity", Problem("one-of", choices=", ".join(SEVERITIES))))
    if severity == "ban" and (days is None or days < 1):
        problems.append(("days", Problem("ban-days")))
    if severity != "ban" and days is not None:
        problems.append(("days", Problem("days-only-ban")))
    if rule == "R13" and prohibition not in PROHIBITIONS:
        problems.append(("prohibition", Problem("prohibition-required")))
    if rule != "R13" and prohibition is not None:
        problems.append(("prohibition", Problem("prohibition-r13-only")))
    if severity == "cancel-visit" and person.kind != "visitor":
        problems.append(("severity", Problem("cancel-visitor-only")))
    if problems:
        raise ValidationFailed(problems)
    witness = employee(session, seen_by, "witness")
    now = now or utcnow()
    visit = None
    escort_id = None
    if person.kind == "visitor":
        visit = session.scalars(
            select(Visit).where(Visit.visitor_id == person_id, Visit.state != "closed").order_by(Visit.id.desc())
        ).first()
        escort_id = escort_in_charge(session, person_id, now)
    breach = Breach(
        person_id=person_id,
        visit_id=visit.id if visit else None,
        rule=rule,
        severity=severity,
        days=days,
        note=note.strip(),
        seen_by=witness.id,
        prohibition=prohibition,
        escort_id=escort_id,
        at=now,
    )
    session.add(breach)
    session.flush()
    if severity in ("cancel-visit", "ban") and visit is not None:
        out = items_out(session, person_id)
        _close(session, visit, now)
        visit.flagged = f"cancelled after a breach of {rule} (R17)" + (f"; still out: {', '.join(out)}" if out else "")
    if severity == "ban":
        assert days is not None
        session.add(
            Ban(
                person_id=person_id,
                until=local(now, timezone).date() + timedelta(days=days),
                reason=f"{rule}: {note}".strip(),
                breach_id=breach.id,
            )
        )
    record_change(session, person_id, "breach")
    session.commit()
    return breach
