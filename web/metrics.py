"""``GET /metrics``: the serve process's Prometheus metrics (controller.metrics for the gates
it runs, and the process's own CPU, memory and file descriptors).

Outside ``/api/v1``: Prometheus scrapes it with no session or API token. The figures hold
no personal data (gate and controller ids, rule ids, counts, R20), so it is open by
default, like the panel's listening address (127.0.0.1); a site that exposes the web
further sets ``SITEGATE_METRICS_TOKEN`` and gives Prometheus that bearer token.
"""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

import controller.metrics  # noqa: F401 - registers the gate collectors, even before a runtime starts

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    token = os.environ.get("SITEGATE_METRICS_TOKEN")
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return Response("metrics token required\n", status=401, mimetype="text/plain")
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)
