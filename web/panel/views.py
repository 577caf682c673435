"""The safety officers' panel: ``bp`` with every page registered on it.

Pages live in short modules by subject; importing them registers their routes on ``bp``.
Each view is thin: parse the form, call a service in zones.services, render.
"""

from __future__ import annotations

from web.panel import dashboard, education, forms, reception, records, users, visitors, visits  # noqa: F401  (routes)
from web.panel.blueprint import bp

__all__ = ["bp"]
