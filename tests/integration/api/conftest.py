"""Fixtures for the HTTP API tests: a migrated database, the app on it, one token per role.

- ``api``: an ``Api`` on the parametrized ``engine`` (SQLite and PostgreSQL). A module
  limits itself to SQLite with ``pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)``
  (the wide role matrix, where PostgreSQL adds nothing).
- ``api.call(method, path, role="reception", json=..., **kw)`` calls /api/v1 with that
  role's bearer token (``role=None``: no token).
- ``api.seed_visitor(...)``: a visitor made ready for the smelting zone through the domain
  services: visit checked in, badge, approved contact form (escort Eve), education with the
  signed notification card, helmet. Returns a ``Seeded`` with the ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.conftest import ROOT
from tests.education import educate
from zones.config import SiteConfig, parse_config
from zones.idcard import check_character

# demo_staff attribute that holds each role's token
ROLE_USER = {
    "admin": "admin",
    "safety_officer": "officer_steel",
    "reception": "reception",
    "escort": "escort",
    "guard": "guard",
}

# a Thursday morning in Asia/Shanghai: inside smelting's hours (06:00-22:00), not night
AT = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)  # 10:00 local


def resident_id(birth: date, seq: int = 123, region: str = "110105") -> str:
    """A valid GB 11643 resident id for ``birth``."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


@dataclass
class Seeded:
    visitor_id: int
    visit_id: int
    form_id: int
    card: str
    id_number: str
    phone: str
    helmet_no: str


def site_config(tmp_path: Path, database: str) -> SiteConfig:
    cfg = parse_config((ROOT / "config.toml").read_text(encoding="utf-8"))
    site = cfg.site.model_copy(update={"secret_key_file": str(tmp_path / "secret_key"), "database": database})
    return cfg.model_copy(update={"site": site})


class Api:
    def __init__(self, app: Flask, staff: Any, session: Any):
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.staff = staff
        self.session = session
        self.tokens = {role: staff.tokens[attr] for role, attr in ROLE_USER.items()}
        self._seq = 100

    def call(
        self, method: str, path: str, role: str | None = "reception", *, token: str | None = None, **kwargs: Any
    ) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        token = token or (self.tokens[role] if role else None)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def seed_visitor(
        self,
        *,
        name: str = "Vera Visitor",
        birth: date = date(1990, 3, 7),
        card: str | None = None,
        escort_id: int | None = None,
        zones: tuple[str, ...] = ("smelting",),
        phone: str = "13800138000",
        helmet: bool = True,
    ) -> Seeded:
        """A visitor ready to enter ``zones`` at AT (through the domain services)."""
        from zones import services

        self._seq += 1
        s = self.session
        id_number = resident_id(birth, self._seq)
        card = card or f"0A00{self._seq:06X}"
        visitor = services.register_visitor(
            s, name=name, id_type="resident_id", id_number=id_number, organisation="Acme", phone=phone
        )
        visit = services.book_visit(
            s, visitor_id=visitor.id, host_id=self.staff.reception.id, purpose="audit", now=AT - timedelta(days=2)
        )
        services.check_in(s, visit.id, id_number, now=AT - timedelta(hours=1))
        services.issue_badge(s, visit.id, card, now=AT - timedelta(hours=1))
        form = services.create_contact_form(
            s,
            visitor_id=visitor.id,
            zones=list(zones),
            escort_id=escort_id or self.staff.escort.id,
            purpose="audit",
            valid_from=AT - timedelta(hours=2),
            valid_until=AT + timedelta(hours=8),
            created_by=self.staff.reception.id,
            known_zones=self.app.extensions["sitegate"].zones,
        )
        # R5: each department of the form's zones approves for itself
        for zone, officer in (("smelting", self.staff.officer_steel), ("assembly", self.staff.officer_assembly)):
            if zone in zones:
                services.approve_contact_form(s, form.id, officer.id, self.app.extensions["sitegate"].zones)
        educate(
            s,
            visitor_id=visitor.id,
            educator_id=self.staff.officer_steel.id,
            delivered_at=AT - timedelta(days=1),
            zones=["smelting"],
        )
        helmet_no = f"H-{self._seq}"
        if helmet:
            services.issue_helmet(s, visitor.id, helmet_no, now=AT - timedelta(hours=1))
        return Seeded(visitor.id, visit.id, form.id, card, id_number, phone, helmet_no)

    def ship(self, *events: dict[str, Any]) -> None:
        """Events as a controller ships them (passages move presence)."""
        from zones.central import ship_events

        ship_events(self.session, list(events))


def _make_api(tmp_path: Path, engine: Engine, demo_staff: Any, session: Any) -> Iterator[Api]:
    from web.app import create_app

    app = create_app(
        site_config(tmp_path, engine.url.render_as_string(hide_password=False)),
        engine=engine,
        testing=True,
        pages=False,
    )
    yield Api(app, demo_staff, session)


@pytest.fixture
def api(tmp_path: Path, engine: Engine, demo_staff: Any, session: Any) -> Iterator[Api]:
    yield from _make_api(tmp_path, engine, demo_staff, session)
