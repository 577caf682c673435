"""Checks bench._dataset against the domain services: the same small population is built
once through zones.services (one call at a time, as reception and the safety office would)
and once by the bulk generator, and every table is compared row by row.

    .venv/bin/python -m bench.snapshot_bench --verify-dataset
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._dataset import (
    DEPARTMENT,
    ORGANISATION,
    PHONE,
    PURPOSE,
    REVOKE_REASON,
    SIGNATURE,
    TIMEZONE,
    ZONE,
    Population,
    Times,
    card_of,
    create_anchors,
    employee_values,
    generate,
    profile,
    site_config,
    visitor_values,
)
from zones.calendar import add_months, local
from zones.db import make_engine, session_factory, upgrade
from zones.schema import Education
from zones.services._common import record_change
from zones.services.education import EDUCATION_TOPICS, record_education
from zones.services.forms import approve_contact_form, create_contact_form, revoke_contact_form
from zones.services.items import issue_badge, issue_helmet, report_badge_lost
from zones.services.people import create_user, register_visitor
from zones.services.visits import book_visit, check_in


def _unsigned_education(visitor_id: int, educator_id: int, delivered: datetime) -> Education:
    """An education record from before signatures were required, its card never signed."""
    on = local(delivered, TIMEZONE).date()
    return Education(
        visitor_id=visitor_id,
        department=DEPARTMENT,
        method="video",
        topics=list(EDUCATION_TOPICS),
        delivered_at=delivered,
        delivered_on=on,
        educator_id=educator_id,
        valid_until=add_months(on, 3),
        notification_signed=False,
        zones=[],
    )


def generate_with_services(path: Path, pop: Population, now: datetime) -> None:
    """What ``generate`` writes, made one service call at a time (slow: small pops only)."""
    t, url, zones = Times(now), f"sqlite:///{path}", site_config().zone_map()
    engine = make_engine(url)
    upgrade(engine)
    officer, escorts = create_anchors(engine, pop)
    today = local(t.now, TIMEZONE).date()
    with session_factory(engine)() as s:
        for n in range(pop.employees):
            name, dept, access, escort_zones = employee_values(n)
            pid = officer + len(escorts) + 1 + n
            emp, _ = create_user(
                s,
                name,
                "escort",
                department=dept,
                escort_zones=escort_zones,
                card=card_of(pid),
                access_zones=access,
                zones=zones,
            )
            assert emp.id == pid
        for i in range(pop.visitors):
            pid, prof = officer + len(escorts) + pop.employees + 1 + i, profile(i)
            card, (idno, _birth), escort = card_of(pid), visitor_values(i, today), escorts[i % len(escorts)]
            v = register_visitor(
                s, name=f"Visitor {card}", id_type="resident_id", id_number=idno, organisation=ORGANISATION, phone=PHONE
            )
            assert v.id == pid
            visit = book_visit(
                s, visitor_id=pid, host_id=escort, purpose=PURPOSE, booked_ahead=prof != "walk-in", now=t.now
            )
            if prof != "not-checked-in":
                check_in(s, visit.id, idno, now=t.now)
            issue_badge(s, visit.id, card, now=t.now)
            if prof == "lost-badge":
                report_badge_lost(s, card, now=t.now)
            form = create_contact_form(
                s,
                visitor_id=pid,
                zones=[ZONE],
                escort_id=escort,
                purpose=PURPOSE,
                valid_from=t.form_from,
                valid_until=t.form_until,
                known_zones=zones,
                now=t.now,
            )
            if prof != "form-pending":
                approve_contact_form(s, form.id, officer, zones, now=t.now)
            if prof == "form-revoked":
                revoke_contact_form(s, form.id, officer, REVOKE_REASON, zones=zones, now=t.now)
            delivered = t.educated_expired if prof == "education-expired" else t.educated
            if prof == "unsigned":
                s.add(_unsigned_education(pid, officer, delivered))  # the services no longer write one
                record_change(s, pid, "education")
                s.commit()
            else:
                record_education(
                    s,
                    visitor_id=pid,
                    department=DEPARTMENT,
                    method="video",
                    topics=list(EDUCATION_TOPICS),
                    delivered_at=delivered,
                    educator_id=officer,
                    signature=SIGNATURE,
                    zones=[ZONE],
                    known_zones=zones,
                    timezone=TIMEZONE,
                    now=delivered,  # recorded on the day it was given (R6)
                )
            if prof != "no-helmet":
                issue_helmet(s, pid, f"H-{card}", now=t.now)
    engine.dispose()


# Set from the wall clock inside the services (utcnow, CURRENT_TIMESTAMP) or random: only
# their shape is compared.
_SHAPE_ONLY = {("persons", "created_at"), ("api_tokens", "created"), ("api_tokens", "hash"), ("changes", "at")}


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(path)
    try:
        out = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            rows = []
            for row in db.execute(f"SELECT * FROM {table}"):
                rows.append(
                    tuple(
                        "".join("h" if c in "0123456789abcdef" else c for c in str(v))
                        if (table, col) in _SHAPE_ONLY
                        else (type(v).__name__, v)
                        for col, v in zip(cols, row, strict=True)
                    )
                )
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        db.close()


VERIFY_POPULATION = Population(visitors=200, employees=12, escorts=3)


def verify(directory: Path, pop: Population = VERIFY_POPULATION) -> list[str]:
    """Build ``pop`` with the services and with ``generate``; the differences (empty when
    the bulk rows are what the services write), one line per differing table."""
    now = datetime.now(UTC)
    a, b = directory / "verify-services.db", directory / "verify-bulk.db"
    for p in (a, b):
        for suffix in ("", "-wal", "-shm", ".migrate-lock"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
    generate_with_services(a, pop, now)
    generate(b, pop, now)
    want, got = _dump(a), _dump(b)
    problems = []
    for table in sorted(set(want) | set(got)):
        w, g = want.get(table, []), got.get(table, [])
        if w != g:
            # The lists may differ in length: the first differing pair of the common prefix.
            first = next((f"services {x!r} vs bulk {y!r}" for x, y in zip(w, g, strict=False) if x != y), "")
            problems.append(f"{table}: {len(w)} rows by services, {len(g)} by bulk; {first}")
    return problems
