"""The panel's Blueprint object, kept apart so the page modules can import it without
importing each other (web.panel.views imports them all and re-exports ``bp``)."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Flask, redirect, url_for
from werkzeug.wrappers import Response

from web.errors import register_page_errors
from web.panel.common import init_pages

bp = Blueprint("panel", __name__, url_prefix="/panel")


def _site_root() -> Response:
    """``/``: the panel (which sends escorts and guards on to the handheld pages)."""
    return redirect(url_for("panel.index"))


def _setup(app: Flask) -> None:
    init_pages(app)
    if "site_root" not in app.view_functions and not any(r.rule == "/" for r in app.url_map.iter_rules()):
        app.add_url_rule("/", "site_root", _site_root)


bp.record_once(lambda state: _setup(cast(Flask, state.app)))  # a Flask app registers the blueprint
register_page_errors(bp)
