"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the route registry
and the same pydantic models the views validate with (pydantic's JSON Schema is the
OpenAPI 3.1 schema dialect, so component schemas are used as generated)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web.api import models as m
from web.api.fields import CARD_MAX, MAX_ID
from web.api.registry import ROUTES, Route, bp
from web.permissions import PERMISSIONS, ROLES

_REF = "#/components/schemas/{model}"
# path parameters as the URL converters accept them (web.errors.IdConverter: ids 1..2^31-1)
_CONVERTER_TYPES = {
    "int": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "string": {"type": "string", "minLength": 1, "maxLength": CARD_MAX},
    "path": {"type": "string"},
}
_ERROR_TEXT = {
    400: "malformed JSON",
    401: "no, invalid or revoked token",
    403: "role not allowed",
    404: "unknown id",
    409: "conflict",
    413: "request body too large",
    422: "validation failed (each field named)",
}


def _roles(route: Route) -> list[str]:
    if route.permission is None:
        return list(ROLES)
    return [r for r in ROLES if r in PERMISSIONS[route.permission]]


def _error_codes(route: Route) -> list[int]:
    codes = {401, 403, *route.errors}
    if route.body is not None:
        codes |= {400, 413, 422}  # 413: a body over web.errors.MAX_CONTENT_LENGTH
    if route.query is not None:
        codes.add(422)
    if route.path_params:
        codes.add(404)
    if any(conv == "string" for _name, conv in route.path_params):
        codes.add(422)  # a card in the path that is not a card number
    return sorted(codes)


def _query_parameters(model: type[BaseModel], keys: dict[Any, Any], components: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field of a query model as an OpenAPI query parameter."""
    body = components[keys[(model, "validation")]["$ref"].rsplit("/", 1)[-1]]
    required = set(body.get("required", []))
    return [
        {"name": prop, "in": "query", "required": prop in required, "schema": sub}
        for prop, sub in body.get("properties", {}).items()
    ]


@cache
def _document_parts() -> tuple[dict[Any, Any], dict[str, Any]]:
    models: set[tuple[type[BaseModel], str]] = {(m.ErrorOut, "serialization"), (m.ValidationErrorOut, "serialization")}
    for r in ROUTES:
        if r.body is not None:
            models.add((r.body, "validation"))
        if r.query is not None:
            models.add((r.query, "validation"))
        if r.response is not None:
            models.add((r.response, "serialization"))
    ordered = sorted(models, key=lambda t: (t[0].__name__, t[1]))
    keys, top = models_json_schema(ordered, ref_template=_REF)  # type: ignore[arg-type]
    return keys, top.get("$defs", {})


def _operation(route: Route, keys: dict[Any, Any], components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.endpoint,
        "summary": route.summary,
        "security": [{"bearerAuth": []}],
        "x-permission": route.permission,
        "x-roles": _roles(route),
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": _CONVERTER_TYPES.get(conv, {"type": "string"})}
            for name, conv in route.path_params
        ],
    }
    if route.query is not None:
        op["parameters"] += _query_parameters(route.query, keys, components)
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": keys[(route.body, "validation")]}},
        }
    ok: dict[str, Any] = {"description": "success"}
    if route.response is not None:
        schema = keys[(route.response, "serialization")]
        ok["content"] = {"application/json": {"schema": {"type": "array", "items": schema} if route.many else schema}}
    responses: dict[str, Any] = {str(route.status): ok}
    for code in _error_codes(route):
        model = m.ValidationErrorOut if code == 422 else m.ErrorOut
        responses[str(code)] = {
            "description": _ERROR_TEXT.get(code, "error"),
            "content": {"application/json": {"schema": keys[(model, "serialization")]}},
        }
    op["responses"] = responses
    return op


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document for every registered route."""
    keys, components = _document_parts()
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, keys, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SiteGate API",
            "version": "1",
            "description": "Site-access safety control (contract.md). Errors: 400 malformed JSON, "
            "401 no/invalid token, 403 role not allowed, 404 unknown id, 409 conflict, "
            "422 validation naming each field. Times are ISO 8601 with offset.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The document is public, like any API description: it holds no data."""
    return jsonify(build_document())
