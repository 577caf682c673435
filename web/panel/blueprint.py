"""The panel's Blueprint object, kept apart so the page modules can import it without
importing each other (web.panel.views imports them all and re-exports ``bp``)."""

from __future__ import annotations

from flask import Blueprint

from web.panel import errors
from web.panel.common import init_pages

bp = Blueprint("panel", __name__, url_prefix="/panel")
bp.record_once(lambda state: init_pages(state.app))
errors.register(bp)
