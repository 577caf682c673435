"""The one error helper: every API error leaves in the contract's shape.

contract.md: 400 malformed JSON, 401 no/invalid token, 403 role not allowed, 404 unknown
id, 409 conflict, 422 ``{"error": "validation", "fields": [{"field", "message"}]}``.
Every body carries ``error`` (a stable code) and, except 422, a ``message`` a person can
read. Domain errors (zones.errors) raised by services map here for ``/api/`` paths; for
pages they become the matching HTTP error, which the pages' own handlers render.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from zones import errors as domain

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 415: "unsupported_media_type",
          422: "validation", 429: "too_many_requests", 500: "internal"}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, message: str, *, error: str | None = None, **extra: Any) -> Response:
    """A JSON error in the contract's shape: ``{"error": code, "message": ..., **extra}``."""
    body: dict[str, Any] = {"error": error or _CODES.get(status, "error"), "message": message}
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="sitegate"'
    return resp


def validation_response(fields: Iterable[Mapping[str, str]]) -> Response:
    """422 naming each field: ``{"error": "validation", "fields": [{"field", "message"}]}``."""
    resp = jsonify({"error": "validation",
                    "fields": [{"field": f["field"], "message": f["message"]} for f in fields]})
    resp.status_code = 422
    return resp


def pydantic_fields(err: ValidationError, *, prefix: str = "") -> list[dict[str, str]]:
    """pydantic's errors as contract fields: ``zones[1]``, ``birth_date``; body-level errors
    (a model validator) are named ``body``."""
    out = []
    for e in err.errors(include_url=False):
        path = ""
        for part in e["loc"]:
            path += f"[{part}]" if isinstance(part, int) else ("." if path else "") + str(part)
        msg = str(e["msg"])
        for p in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(p)
        if e["type"] == "extra_forbidden":
            msg = "unknown field"
        out.append({"field": prefix + (path or "body"), "message": msg})
    return out


def _domain_error(err: Exception) -> Response:
    if isinstance(err, domain.ValidationFailed):
        return validation_response(_fields_of(err))
    if isinstance(err, domain.NotFound):
        return error_response(404, str(err) or "not found")
    if isinstance(err, domain.Conflict):
        return error_response(409, str(err) or "conflict", items=list(getattr(err, "items", []) or []))
    if isinstance(err, domain.NotAllowed):
        # "not_allowed": a domain rule refused (e.g. R5 department); "forbidden" is the role table
        return error_response(403, str(err) or "not allowed", error="not_allowed")
    raise err


def _fields_of(err: Exception) -> list[dict[str, str]]:
    fields = getattr(err, "fields", None) or []
    out = []
    for f in fields:
        if isinstance(f, Mapping):
            out.append({"field": str(f["field"]), "message": str(f["message"])})
        else:  # (field, message) pairs
            name, message = f
            out.append({"field": str(name), "message": str(message)})
    return out or [{"field": "body", "message": str(err)}]


_DOMAIN_STATUS = {"ValidationFailed": 422, "NotFound": 404, "Conflict": 409, "NotAllowed": 403}


def register_error_handlers(app: Flask) -> None:
    """JSON errors for /api/ paths; domain errors become HTTP errors for pages."""

    def on_domain_error(err: Exception) -> Any:
        if is_api_request():
            return _domain_error(err)
        from flask import abort
        status = next(s for name, s in _DOMAIN_STATUS.items() if isinstance(err, getattr(domain, name)))
        abort(status, description=str(err))

    for name in _DOMAIN_STATUS:
        app.register_error_handler(getattr(domain, name), on_domain_error)

    @app.errorhandler(HTTPException)
    def on_http_error(err: HTTPException) -> Any:
        if not is_api_request():
            return err  # pages: werkzeug's (or the pages' own) rendering
        status = err.code or 500
        if status == 400:
            # request.get_json() raises BadRequest on a body that is not JSON
            return error_response(400, "malformed JSON body: " + (err.description or ""), error="malformed_json")
        return error_response(status, err.description or err.name)

    @app.errorhandler(ValidationError)
    def on_pydantic_error(err: ValidationError) -> Any:
        # request models are validated in web.api.registry (422); one escaping to here is a
        # response model failing, which is our bug, not the caller's
        if not is_api_request():
            raise err
        log.exception("response model failed validation")
        return error_response(500, "internal error: response did not validate", error="internal")
