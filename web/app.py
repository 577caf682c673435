"""The Flask application factory: ``create_app(config)`` wires the web panel, the handheld
pages, sign-in and the JSON API onto one database.

Importing this module does no work. ``create_app`` reads the secret key (generating it on
first run, web.secret), builds or takes the SQLAlchemy engine and installs the site's shared
state (web.context), which every view reads; nothing imports this module back.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine

from web import context
from zones.config import SiteConfig
from zones.db import session_factory

csrf = CSRFProtect()


def _make_engine(config: SiteConfig) -> Engine:
    """The central database for ``config``, created or migrated to the current schema
    (contract.md: every command works on the database its config names)."""
    from zones import db

    engine = db.make_engine(config.site.database)
    db.upgrade(engine)
    return engine


def create_app(
    config: SiteConfig,
    *,
    engine: Engine | None = None,
    testing: bool = False,
    overrides: dict[str, Any] | None = None,
    pages: bool = True,
) -> Flask:
    """Build the SiteGate web application.

    ``config``: the validated config.toml. ``engine``: an engine on an already migrated
    database (tests pass theirs); when None the database named in config is opened and
    migrated. ``testing``: Flask testing mode (CSRF stays ON: tests fetch the token like a
    browser). ``overrides``: extra Flask config keys (e.g. ``SESSION_COOKIE_SECURE``,
    ``RATELIMIT_ENABLED``). ``pages``: False leaves out the panel and handheld pages, an
    app with the API and sign-in only, which the API tests build (sign-in then uses its
    standalone layout).
    """
    from web.secret import load_or_create_secret

    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config.update(
        SECRET_KEY=load_or_create_secret(config.site.secret_key_file),
        TESTING=testing,
        # HttpOnly and SameSite=Lax always; Secure when the site is served over https
        # (behind a TLS proxy): SITEGATE_HTTPS=1 or overrides {"HTTPS": True}. `serve`
        # itself speaks plain http on 127.0.0.1, where a Secure cookie would never come back.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=False,
        WTF_CSRF_TIME_LIMIT=None,  # token lives as long as the session (a shift at a desk)
        HTTPS=os.environ.get("SITEGATE_HTTPS", "").lower() in ("1", "true", "yes"),
    )
    if overrides:
        app.config.update(overrides)
    if app.config.get("HTTPS"):
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)

    if engine is None:
        engine = _make_engine(config)
    context.install(
        app,
        context.SiteGate(
            config=config,
            engine=engine,
            sessions=session_factory(engine),
            zones=config.zone_map(),
            policy=config.policy(),
            language=config.site.language,
        ),
    )

    from web import auth, security
    from web.api import bp as api_bp
    from web.errors import register_error_handlers
    from web.metrics import bp as metrics_bp

    csrf.init_app(app)
    security.init_app(app, config.web.proxies)
    register_error_handlers(app)
    app.register_blueprint(auth.bp)
    auth.init_app(app)
    csrf.exempt(api_bp)  # the JSON API authenticates by bearer token, not by cookie
    app.register_blueprint(api_bp)
    app.register_blueprint(metrics_bp)  # GET /metrics for Prometheus, outside the API
    if pages:
        from web.handheld.views import bp as handheld_bp
        from web.panel.views import bp as panel_bp

        app.register_blueprint(panel_bp)
        app.register_blueprint(handheld_bp)
    return app
