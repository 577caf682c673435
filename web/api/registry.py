"""The API's route registry: one decorator registers path, method, request / query model,
response model and permission, and builds the Flask view around a thin handler.

    @api_route("POST", "/visits/<int:visit_id>/badge", permission="badges.write",
               body=BadgeIn, response=BadgeOut, status=201)
    def issue_badge(visit_id: int, body: BadgeIn) -> BadgeOut: ...

The generated view: authenticates (401) and checks the permission table (403) through
web.auth.require, parses the JSON body (400 when it is not JSON) and the query string into
their pydantic models (422 naming each field), calls the handler with path parameters and
``body=`` / ``query=``, and serialises the result through the response model. The same
registry feeds the OpenAPI document (web.api.openapi), so the document cannot drift from
what the views accept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from web.auth import require, require_login
from web.errors import error_response, pydantic_fields, validation_response
from web.permissions import PERMISSIONS

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Route:
    """One registered endpoint, as the OpenAPI document describes it."""

    method: str
    path: str  # Flask rule, e.g. /visits/<int:visit_id>/badge
    endpoint: str
    summary: str
    permission: str | None  # None: any signed-in employee (GET /me); "" : public
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    many: bool  # response is a JSON array of ``response``
    status: int
    errors: tuple[int, ...] = field(default=())

    @property
    def openapi_path(self) -> str:
        return _CONVERTER.sub(r"{\2}", self.path)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        """(name, converter) for each path parameter."""
        return [(m.group(2), m.group(1) or "string") for m in _CONVERTER.finditer(self.path)]


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

ROUTES: list[Route] = []


def _parse_json_body(model: type[BaseModel]) -> BaseModel | Response:
    raw = request.get_data(cache=True)
    if raw.strip():
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            return error_response(400, f"malformed JSON body: {err}", error="malformed_json")
        except (RecursionError, ValueError):  # nested thousands deep; an integer of 5000 digits
            return error_response(
                400, "malformed JSON body: nested too deeply or a number too long", error="malformed_json"
            )
    else:
        data = {}  # an empty body is an empty object: 422 then names every required field
    try:
        return model.model_validate(data)
    except ValidationError as err:
        return validation_response(pydantic_fields(err))


def _parse_query(model: type[BaseModel]) -> BaseModel | Response:
    # repeated keys become lists only when the model field expects a list
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        info = model.model_fields.get(key)
        wants_list = info is not None and "list" in str(info.annotation)
        data[key] = values if wants_list else values[-1]
    try:
        return model.model_validate(data)
    except ValidationError as err:
        return validation_response(pydantic_fields(err))


def api_route(
    method: str,
    path: str,
    *,
    permission: str | None,
    response: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    many: bool = False,
    status: int = 200,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``handler`` as ``method path`` (Flask rule syntax, relative to /api/v1).

    ``permission``: a key of web.permissions.PERMISSIONS, or None for any signed-in
    employee. ``errors``: extra status codes the handler may answer (for the document;
    401/403/400/422 are added from the other arguments).
    """
    if permission is not None and permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        endpoint = handler.__name__

        def view(**path_args: Any) -> Any:
            kwargs: dict[str, Any] = dict(path_args)
            if body is not None:
                parsed = _parse_json_body(body)
                if isinstance(parsed, Response):
                    return parsed
                kwargs["body"] = parsed
            if query is not None:
                parsed = _parse_query(query)
                if isinstance(parsed, Response):
                    return parsed
                kwargs["query"] = parsed
            result = handler(**kwargs)
            return _serialise(result, response, many, status)

        view.__name__ = endpoint
        view.__doc__ = handler.__doc__
        guarded = require(permission)(view) if permission is not None else require_login(view)
        bp.add_url_rule(path, endpoint, guarded, methods=[method])
        ROUTES.append(
            Route(
                method=method,
                path=path,
                endpoint=endpoint,
                summary=(handler.__doc__ or endpoint).strip().splitlines()[0],
                permission=permission,
                body=body,
                query=query,
                response=response,
                many=many,
                status=status,
                errors=tuple(errors),
            )
        )
        return handler

    return decorate


_adapters: dict[tuple[type[BaseModel], bool], TypeAdapter[Any]] = {}


def _serialise(result: Any, response: type[BaseModel] | None, many: bool, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if response is None:
        payload: Any = result if result is not None else {}
    else:
        key = (response, many)
        if key not in _adapters:
            _adapters[key] = TypeAdapter(list[response] if many else response)  # type: ignore[valid-type]
        adapter = _adapters[key]
        payload = adapter.dump_python(adapter.validate_python(result), mode="json")
    resp = Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")
    return resp
