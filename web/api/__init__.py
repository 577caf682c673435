"""The JSON API under /api/v1 (contract.md, HTTP API table).

``bp`` is the blueprint; importing this package imports each resource module, which
registers its routes on ``bp`` and in ``web.api.registry.ROUTES`` (the OpenAPI source).
"""

from web.api.registry import ROUTES, bp
from web.api import openapi, people  # noqa: E402,F401  (importing registers the routes)

__all__ = ["ROUTES", "bp"]
