"""A small plant for end-to-end gate tests and benchmarks: a migrated database with people
seeded through the domain services, a pty card reader per gate, a real pymodbus turnstile
server, and a ControllerRuntime deciding for them.

Times are kept out of the way of the clock: the zone has no opening hours and the escort
is from the dispatch room, so the tests pass at any hour (R14 has its own unit tests).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from tests.education import educate, legacy_education
from zones.config import SiteConfig, parse_config
from zones.db import make_engine, session_factory, upgrade
from zones.idcard import check_character
from zones.services._common import record_change
from zones.services.forms import approve_contact_form, create_contact_form
from zones.services.items import issue_badge, issue_helmet
from zones.services.people import create_user, register_visitor
from zones.services.visits import book_visit, check_in

ESCORT_CARD = "0B00000001"
OFFICER_CARD = "0B00000002"


def plant_config(db_url: str, modbus_url: str, **kwargs: Any) -> SiteConfig:
    return parse_config(plant_config_text(db_url, modbus_url, **kwargs), "test-plant.toml")


def plant_config_text(
    db_url: str,
    modbus_url: str,
    *,
    in_port: str = "sim",
    out_port: str = "sim",
    escort_window_s: float = 1.5,
    max_occupancy: int = 40,
    protocol: str = "em4100",
) -> str:
    # the controller signs its snapshot cache with the site's secret key: beside a test's
    # SQLite database, not in the working directory's var/
    secret = (
        Path(db_url.removeprefix("sqlite:///")).with_name("secret_key") if db_url.startswith("sqlite:///") else None
    )
    return f"""
[site]
name = "Test plant"
timezone = "Asia/Shanghai"
database = "{db_url}"
{f'secret_key_file = "{secret}"' if secret else ""}

[rules]
escort_window_s = {escort_window_s}
stale_read_s = 3
repeat_read_s = 0   # tests present the same card in quick succession on purpose

[[zones]]
id = "smelting"
name = "Smelting workshop"
department = "steelmaking"
risk = "high-risk"
helmet = true
max_occupancy = {max_occupancy}

[[gates]]
id = "smelting-east"
zone = "smelting"
direction = "in"
reader = {{ protocol = "{protocol}", port = "{in_port}" }}
turnstile = {{ modbus = "{modbus_url}", unit = 1, release_coil = 0, passage_input = 0, pulse_ms = 100, pass_timeout_s = 2 }}

[[gates]]
id = "smelting-exit"
zone = "smelting"
direction = "out"
reader = {{ protocol = "{protocol}", port = "{out_port}" }}
turnstile = {{ modbus = "{modbus_url}", unit = 1, release_coil = 1, passage_input = 1, pulse_ms = 100, pass_timeout_s = 2 }}

[alarm]
modbus = "{modbus_url}"
unit = 1
input = 10
"""


def resident_id(birth: date, serial: int) -> str:
    """A valid GB 11643 number for ``birth`` (area code 110101)."""
    first17 = f"110101{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_character(first17)


@dataclass
class Seed:
    """Ids of what ``seed_people`` created."""

    escort_id: int
    officer_id: int
    visitors: dict[str, int] = field(default_factory=dict)  # card -> visitor id


class People:
    """Seeds people through the domain services (never by writing rows directly, except an
    education record of the kind the services no longer write: tests.education.legacy_education)."""

    def __init__(self, engine: Engine, config: SiteConfig):
        self.sessions = session_factory(engine)
        self.zones = config.zone_map()
        with self.sessions() as s:
            escort, _ = create_user(
                s,
                "Wang Wei",
                "escort",
                department="steelmaking",
                escort_zones=["smelting"],
                card=ESCORT_CARD,
                dispatch_room=True,
                zones=self.zones,
            )
            officer, _ = create_user(
                s, "Zhao Min", "safety_officer", department="steelmaking", card=OFFICER_CARD, zones=self.zones
            )
            s.commit()
            self.seed = Seed(escort.id, officer.id)

    def visitor(
        self,
        card: str,
        *,
        born: date = date(1990, 5, 1),
        form: bool = True,
        educated_on: datetime | None = None,
        notification: bool = True,
        helmet: bool = True,
        badge: bool = True,
        serial: int | None = None,
        escort_id: int | None = None,
    ) -> int:
        """A visitor ready for the smelting zone; the form names ``escort_id`` (default: the
        seeded escort) as the escort of record (R10)."""
        now = datetime.now(UTC)
        with self.sessions() as s:
            number = resident_id(born, serial if serial is not None else len(self.seed.visitors) + 1)
            v = register_visitor(
                s,
                name=f"Visitor {card}",
                id_type="resident_id",
                id_number=number,
                organisation="Acme",
                phone="13800138000",
            )
            visit = book_visit(s, visitor_id=v.id, host_id=self.seed.escort_id, purpose="audit")
            check_in(s, visit.id, number)
            if badge:
                issue_badge(s, visit.id, card)
            if form:
                f = create_contact_form(
                    s,
                    visitor_id=v.id,
                    zones=["smelting"],
                    escort_id=escort_id or self.seed.escort_id,
                    purpose="audit",
                    valid_from=now - timedelta(hours=1),
                    valid_until=now + timedelta(hours=8),
                    known_zones=self.zones,
                )
                approve_contact_form(s, f.id, self.seed.officer_id, self.zones)
            if notification:
                educate(
                    s,
                    visitor_id=v.id,
                    educator_id=self.seed.officer_id,
                    delivered_at=educated_on or now,
                    known_zones=self.zones,
                )
            else:  # a record from before signatures were required, whose card was never signed
                s.add(legacy_education(v.id, self.seed.officer_id, educated_on or now, signed=False))
                record_change(s, v.id, "education")
            if helmet:
                issue_helmet(s, v.id, f"H-{card}")
            s.commit()
            self.seed.visitors[card] = v.id
            return v.id


def migrated_sqlite(path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    return url, engine


def central_events(engine: Engine, **where: Any) -> list[dict[str, Any]]:
    """Rows of the central events table (optionally filtered by equal columns), oldest first."""
    from sqlalchemy import select

    from zones.schema import Event

    with session_factory(engine)() as s:
        q = select(Event).order_by(Event.id)
        for col, value in where.items():
            q = q.where(getattr(Event, col) == value)
        return [{c.name: getattr(e, c.key) for c in Event.__table__.columns} for e in s.scalars(q)]


def journal_rows(path: Path) -> list[dict[str, Any]]:
    """The local journal read straight from its file (as an auditor would)."""
    import json

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [json.loads(body) for (body,) in db.execute("SELECT body FROM journal ORDER BY seq")]
    finally:
        db.close()
