"""The Flask application factory: ``create_app(config)`` wires the web panel, the handheld
pages, sign-in and the JSON API onto one database.

Importing this module does no work. ``create_app`` reads the secret key (generating it on
first run, web.secret), builds or takes the SQLAlchemy engine, and keeps what every request
needs in ``app.extensions["sitegate"]`` (a ``SiteGate``). Each request gets one database
session (``db_session()``), closed at teardown; services commit, views never query.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from zones.config import SiteConfig
from zones.db import session_factory
from zones.facts import Policy, Zone

log = logging.getLogger(__name__)

# the pages engineer's blueprints; missing modules must not break the API
_PAGE_BLUEPRINTS = ("web.panel.views", "web.handheld.views")

csrf = CSRFProtect()


@dataclass
class SiteGate:
    """What the web needs of the site, shared by every request (app.extensions["sitegate"])."""

    config: SiteConfig
    engine: Engine
    sessions: sessionmaker[Session]
    zones: dict[str, Zone]
    policy: Policy
    language: str


def sitegate() -> SiteGate:
    """The current app's SiteGate state."""
    state: SiteGate = current_app.extensions["sitegate"]
    return state


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = sitegate().sessions()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back anything a failed request left uncommitted


def _make_engine(config: SiteConfig) -> Engine:
    """The central database for ``config``, created or migrated to the current schema
    (contract.md: every command works on the database its config names)."""
    from zones import db

    engine = db.make_engine(config.site.database)
    db.upgrade(engine)
    return engine


def create_app(config: SiteConfig, *, engine: Engine | None = None, testing: bool = False,
               overrides: dict[str, Any] | None = None, pages: bool = True) -> Flask:
    """Build the SiteGate web application.

    ``config``: the validated config.toml. ``engine``: an engine on an already migrated
    database (tests pass theirs); when None the database named in config is opened and
    migrated. ``testing``: Flask testing mode (CSRF stays ON: tests fetch the token like a
    browser). ``overrides``: extra Flask config keys (e.g. ``SESSION_COOKIE_SECURE``,
    ``RATELIMIT_ENABLED``). ``pages``: False builds the API and sign-in only (API tests).
    """
    from web.secret import load_or_create_secret

    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=load_or_create_secret(config.site.secret_key_file),
        TESTING=testing,
        # secure cookies (issue part 2): HttpOnly and SameSite=Lax always; Secure when the
        # site is served over https (behind a TLS proxy): SITEGATE_HTTPS=1 or overrides
        # {"HTTPS": True}. `serve` itself speaks plain http on 127.0.0.1, where a Secure
        # cookie would never come back.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=False,
        WTF_CSRF_TIME_LIMIT=None,   # token lives as long as the session (a shift at a desk)
        HTTPS=os.environ.get("SITEGATE_HTTPS", "").lower() in ("1", "true", "yes"),
    )
    if overrides:
        app.config.update(overrides)
    if app.config.get("HTTPS"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    if engine is None:
        engine = _make_engine(config)
    app.extensions["sitegate"] = SiteGate(
        config=config,
        engine=engine,
        sessions=session_factory(engine),
        zones=config.zone_map(),
        policy=config.policy(),
        language=config.site.language,
    )
    app.teardown_appcontext(_close_session)

    from web import auth
    from web.api import bp as api_bp
    from web.errors import register_error_handlers

    csrf.init_app(app)
    register_error_handlers(app)
    app.register_blueprint(auth.bp)
    auth.init_app(app)
    csrf.exempt(api_bp)  # the JSON API authenticates by bearer token, not by cookie
    app.register_blueprint(api_bp)
    if pages:
        _register_pages(app)
    return app


def _register_pages(app: Flask) -> None:
    for module_name in _PAGE_BLUEPRINTS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name is None or not module_name.startswith(err.name):
                raise  # a real import error inside the pages, not a missing part
            log.info("pages %s not installed; skipping", module_name)
            continue
        app.register_blueprint(module.bp)
