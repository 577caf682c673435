"""What every request of the web application shares: the site (config, zones, policy,
database) and the request's database session.

``web.app.create_app`` installs a ``SiteGate`` on the app; views, sign-in and the API read
it through ``sitegate()`` and open their session through ``db_session()``. This module
imports nothing else of the web, so any of it may import this.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from zones.config import SiteConfig
from zones.facts import Policy, Zone

_EXTENSION = "sitegate"


@dataclass(frozen=True)
class SiteGate:
    """What the web needs of the site, shared by every request."""

    config: SiteConfig
    engine: Engine
    sessions: sessionmaker[Session]
    zones: dict[str, Zone]
    policy: Policy
    language: str


def install(app: Flask, site: SiteGate) -> None:
    """Make ``site`` the app's SiteGate and close each request's session at teardown."""
    app.extensions[_EXTENSION] = site
    app.teardown_appcontext(_close_session)


def sitegate() -> SiteGate:
    """The current app's SiteGate."""
    site: SiteGate = current_app.extensions[_EXTENSION]
    return site


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown.
    Services commit; a request that fails leaves nothing half-written."""
    if "db_session" not in g:
        g.db_session = sitegate().sessions()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything a failed request left uncommitted
