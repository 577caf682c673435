"""The one error map of the web: which HTTP status each domain error (zones.errors) is,
and how an error leaves, as the contract's JSON for the API or as an error page.

API (contract.md): 400 malformed JSON, 401 no/invalid token, 403 role not allowed, 404
unknown id, 409 conflict, 422 ``{"error": "validation", "fields": [{"field", "message"}]}``.
Every body carries ``error`` (a stable code) and, except 422, a ``message`` a person can
read. Pages: the panel and handheld blueprints render ``error.html`` in the page's language
and layout (``register_page_errors``); other paths (sign-in) get werkzeug's plain page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, abort, jsonify, render_template, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as RouteMismatch

from web import request_log
from web.api.fields import MAX_ID
from web.i18n import N_, current_language, error_text, translate
from zones import errors as domain

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
# the largest request body: a signed notification card (web.api.fields.SIGNATURE_MAX) with
# its form fits many times over; anything larger is refused (413) before a view reads it
MAX_CONTENT_LENGTH = 1024 * 1024

# the HTTP status of each deliberate refusal a service raises
DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.ValidationFailed: 422,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.NotAllowed: 403,
}

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "too_many_requests",
    500: "internal",
}


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
    resp = jsonify({"error": "validation", "fields": [{"field": f["field"], "message": f["message"]} for f in fields]})
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


def domain_status(err: domain.DomainError) -> int:
    """The HTTP status for a domain error (DOMAIN_STATUS)."""
    return next(status for cls, status in DOMAIN_STATUS.items() if isinstance(err, cls))


def _domain_error(err: domain.DomainError) -> Response:
    if isinstance(err, domain.ValidationFailed):
        return validation_response(_fields_of(err))
    status = domain_status(err)
    if isinstance(err, domain.Conflict):
        return error_response(status, str(err) or "conflict", items=list(getattr(err, "items", []) or []))
    if isinstance(err, domain.NotAllowed):
        # "not_allowed": a domain rule refused (e.g. R5 department); "forbidden" is the role table
        return error_response(status, str(err) or "not allowed", error="not_allowed")
    return error_response(status, str(err) or "not found")


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


class IdConverter(IntegerConverter):
    """``<int:...>`` in every URL: a row id, 1..2^31-1 (web.api.fields.MAX_ID). Anything else
    (0, a number no INTEGER column holds, 5000 digits) matches no route, a 404, instead of
    failing in the database."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str) -> Any:
        if len(value) > len(str(MAX_ID)):  # also keeps int() clear of its digit limit
            raise RouteMismatch()
        return super().to_python(value)


def register_error_handlers(app: Flask) -> None:
    """JSON errors for /api/ paths; elsewhere a domain error becomes its HTTP error. Also
    bounds what a request may carry: ids in URLs (``IdConverter``, installed before any
    blueprint adds its rules) and the body size (``MAX_CONTENT_LENGTH``, 413)."""
    app.url_map.converters["int"] = IdConverter
    request_log.install()  # an access log line never carries a query string (R20)
    # Flask's defaults are None (no limit) and 500 kB for a form field; a signature field
    # may take up to web.api.fields.SIGNATURE_MAX, so a form gets the same limit as a body
    for key in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE"):
        app.config[key] = min(app.config.get(key) or MAX_CONTENT_LENGTH, MAX_CONTENT_LENGTH)

    def on_domain_error(err: domain.DomainError) -> Any:
        if is_api_request():
            return _domain_error(err)
        abort(domain_status(err), description=str(err))

    for cls in DOMAIN_STATUS:
        app.register_error_handler(cls, on_domain_error)

    @app.errorhandler(HTTPException)
    def on_http_error(err: HTTPException) -> Any:
        if not is_api_request():
            return err  # pages: werkzeug's (or the pages' own) rendering
        status = err.code or 500
        if status == 400:
            # request.get_json() raises BadRequest on a body that is not JSON
            return error_response(400, "malformed JSON body: " + (err.description or ""), error="malformed_json")
        if status == 413:
            return error_response(413, f"request body larger than {MAX_CONTENT_LENGTH} bytes")
        return error_response(status, err.description or err.name)

    @app.errorhandler(RecursionError)
    def on_too_deep(err: RecursionError) -> Any:
        # a body nested thousands deep (``[`` x 100000): the caller's mistake, not a crash
        if is_api_request():
            return error_response(400, "malformed JSON body: nested too deeply", error="malformed_json")
        abort(400, description="the request is nested too deeply")

    @app.errorhandler(Exception)
    def on_unexpected(err: Exception) -> Any:
        # the last resort: a bug of ours. The API still answers in the contract's shape; its
        # traceback is logged (statement parameters are hidden by zones.db.make_engine)
        if not is_api_request():
            raise err
        log.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal error", error="internal")

    @app.errorhandler(ValidationError)
    def on_pydantic_error(err: ValidationError) -> Any:
        # request models are validated in web.api.registry (422); one escaping to here is a
        # response model failing, which is our bug, not the caller's
        if not is_api_request():
            raise err
        log.exception("response model failed validation")
        return error_response(500, "internal error: response did not validate", error="internal")


# ---- error pages (panel and handheld) ---------------------------------------------------

PAGE_TITLES = {
    400: N_("The request could not be used"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed"),
    409: N_("Conflict"),
    413: N_("The request is too large"),
    422: N_("Please check the input"),
}


def _error_page(err: HTTPException, description: str | None = None) -> Any:
    """The error page in the page's language. ``description``: a line already in that
    language; otherwise the exception's own (English, written for the log and the API) is
    shown on English pages only, so a Chinese page never carries an English sentence."""
    status = err.code or 500
    title = translate(PAGE_TITLES.get(status, N_("Error")))
    if description is None:
        description = (err.description or "") if current_language() == "en" else ""
    return render_template("error.html", status=status, title=title, description=description), status


def _domain_error_page(err: domain.DomainError) -> Any:
    # a domain error the view did not turn into a form message (e.g. an unknown id in the URL),
    # said from its code in the page's language when it has one
    status = domain_status(err)
    said = error_text(err) if getattr(err, "code", "") else None
    return _error_page(default_exceptions[status](description=str(err)), said)


def register_page_errors(bp: Blueprint) -> None:
    """Error pages in the page's language and layout for ``bp``'s views (403, 404, 400 such
    as a missing CSRF token, and domain errors). Registered per page blueprint, so the API
    keeps the contract's JSON errors."""
    for status in PAGE_TITLES:
        bp.register_error_handler(status, _error_page)
    for cls in DOMAIN_STATUS:
        bp.register_error_handler(cls, _domain_error_page)
