"""The JSON API under /api/v1 (contract.md, HTTP API table).

``bp`` is the blueprint; importing this package imports each resource module, which
registers its routes on ``bp`` and in ``web.api.registry.ROUTES`` (the OpenAPI source).
Extensions beyond the contract's table: POST /zones/{zone}/passback-reset (R15) and
GET /gates (gate health), GET /exports/{register}.{xlsx,csv} (the registers, R19-R23).
"""

from web.api import (  # noqa: E402,F401  (registers routes)
    alerts,
    exports,
    forms,
    openapi,
    people,
    reception,
    records,
    site,
    visitors,
    visits,
    zones,
)
from web.api.registry import ROUTES, bp

__all__ = ["ROUTES", "bp"]
