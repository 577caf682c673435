"""Breaches of the site rules and their sanctions (R13, R17): warning, cancellation of the
visit, or a ban for N days. A breach may name an employee: bringing someone in unregistered
counts against the responsible employee."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zones.errors import Problem, ValidationFailed
from zones.schema import SEVERITIES, Ban, Breach, Person, Visit
from zones.services._common import employee, get_or_404, record_change, utcnow
from zones.services.visits import _close, items_out

_RULE = re.compile(r"^(R([1-9]|1[0-9]|20)|E1)$")


def record_breach(
    session: Session,
    *,
    person_id: int,
    rule: str,
    severity: str,
    seen_by: int,
    note: str = "",
    days: int | None = None,
    now: datetime | None = None,
) -> Breach:
    """Record a breach seen by ``seen_by``. ``cancel-visit`` closes the visitor's open visit;
    ``ban`` bans the person for ``days`` days from today (and closes an open visit)."""
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
    if severity == "cancel-visit" and person.kind != "visitor":
        problems.append(("severity", Problem("cancel-visitor-only")))
    if problems:
        raise ValidationFailed(problems)
    witness = employee(session, seen_by, "witness")
    now = now or utcnow()
    visit = None
    if person.kind == "visitor":
        visit = session.scalars(
            select(Visit).where(Visit.visitor_id == person_id, Visit.state != "closed").order_by(Visit.id.desc())
        ).first()
    breach = Breach(
        person_id=person_id,
        visit_id=visit.id if visit else None,
        rule=rule,
        severity=severity,
        days=days,
        note=note.strip(),
        seen_by=witness.id,
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
                until=now.date() + timedelta(days=days),
                reason=f"{rule}: {note}".strip(),
                breach_id=breach.id,
            )
        )
    record_change(session, person_id, "breach")
    session.commit()
    return breach
