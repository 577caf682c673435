"""What every response of the web carries and how the client's address is known.

- Security headers on every response, pages and API alike: a Content-Security-Policy that
  admits only the site's own scripts, styles and images (no inline script, no framing),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (page paths can hold
  visitor ids: nothing leaves the site, while flask-wtf's CSRF check over https still gets
  the Referer it requires) and ``X-Frame-Options: DENY`` for browsers without
  ``frame-ancestors``.
- ``[web] proxies = N``: the web sits behind N reverse proxies, each appending to
  X-Forwarded-For; werkzeug's ProxyFix then makes ``request.remote_addr`` the real client's,
  which the sign-in limits key on (web.auth). With 0 the header is ignored: a client could
  otherwise write any address into it.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask, proxies: int) -> None:
    """Security headers on every response; trust ``proxies`` X-Forwarded-For hops."""
    app.after_request(_add_headers)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
