"""Error pages for the panel and handheld (403, 404, 400 such as a missing CSRF token),
in the page's language and layout. Registered on the page blueprints only, so the API keeps
the contract's JSON errors (web.errors)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException, default_exceptions

from web.i18n import N_, translate
from zones import errors as domain

_TITLES = {400: N_("The request could not be used"), 403: N_("Not allowed"), 404: N_("Not found"),
           405: N_("Not allowed"), 409: N_("Conflict"), 422: N_("Please check the input")}


def _page(err: HTTPException) -> Any:
    status = err.code or 500
    title = translate(_TITLES.get(status, N_("Error")))
    return render_template("error.html", status=status, title=title, description=err.description or ""), status


# a domain error a page view did not turn into a form message (e.g. an unknown id in the URL)
_DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404, domain.NotAllowed: 403, domain.Conflict: 409, domain.ValidationFailed: 422}


def _domain_page(err: domain.DomainError) -> Any:
    status = next(s for cls, s in _DOMAIN_STATUS.items() if isinstance(err, cls))
    return _page(default_exceptions[status](description=str(err)))


def register(bp: Blueprint) -> None:
    for status in _TITLES:
        bp.register_error_handler(status, _page)
    for cls in _DOMAIN_STATUS:
        bp.register_error_handler(cls, _domain_page)
