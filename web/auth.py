"""Sign-in and who is asking: session login for the pages, bearer tokens for the API, and
``require(permission)``, the one gate every page and API view passes through.

- Pages: flask-login session cookie (HttpOnly, SameSite=Lax, Secure over https: web.app),
  CSRF on every form (flask-wtf, web.app). The cookie carries the employee's session
  generation, which sign-out and a password change move on, so a copied or replayed cookie
  stops working; a session unused for ``[web] idle_minutes`` ends. Failed sign-ins are
  rate-limited per client address and per account name (flask-limiter, in-memory storage;
  the address is the real client's behind ``[web] proxies``, web.security); successful
  ones do not count.
- API: ``Authorization: Bearer TOKEN`` only; tokens are stored as SHA-256 digests, expire
  and can be revoked (zones.services.people). The API is CSRF-exempt, so it never accepts
  the session cookie (a forged cross-site POST would otherwise ride on it).
- ``current_actor()`` is the signed-in employee as an ``Actor`` (a detached snapshot, safe to
  keep after the request's database session closes), from the session or the token.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from web.context import db_session, sitegate
from web.i18n import N_
from web.permissions import allowed

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, template_folder="templates")

# failed sign-ins: spraying one password over many names is held by the address limit,
# guessing one account's password from many addresses by the account limit
LOGIN_LIMIT_PER_ADDRESS = "20/minute"
LOGIN_LIMIT_PER_ACCOUNT = "5/minute"
# session keys beside flask-login's: the employee's session generation when signing in, and
# when the session was last used (seconds since the epoch)
GENERATION_KEY = "sitegate_generation"
SEEN_KEY = "sitegate_seen"


def _clock() -> float:
    return time.time()


P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Actor(UserMixin):
    """The employee making the request (flask-login's user object, also for bearer calls)."""

    id: int
    name: str
    role: str
    department: str | None = None
    card: str | None = None
    escort_zones: tuple[str, ...] = ()
    language: str | None = None
    via_token: bool = field(default=False, compare=False)

    def get_id(self) -> str:
        return str(self.id)

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)


def actor_of(employee: Any, *, via_token: bool = False) -> Actor:
    """An Actor snapshot of a zones.schema.Employee row."""
    return Actor(
        id=employee.id,
        name=employee.name,
        role=employee.role,
        department=employee.department,
        card=employee.card,
        escort_zones=tuple(employee.escort_zone_ids),
        language=employee.language,
        via_token=via_token,
    )


# ---- who is asking -------------------------------------------------------------------


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_actor() -> Actor | None:
    """The employee behind this request: bearer token first (API), else the session."""
    if "sitegate_actor" in g:
        actor: Actor | None = g.sitegate_actor
        return actor
    actor = None
    token = _bearer_token()
    if token is not None:
        from zones.services import people

        employee = people.authenticate_token(db_session(), token)
        actor = actor_of(employee, via_token=True) if employee is not None else None
    elif request.path.startswith("/api/"):
        # the API is CSRF-exempt, so it must never accept the session cookie
        actor = None
    elif current_user.is_authenticated:
        actor = current_user._get_current_object()
    g.sitegate_actor = actor
    return actor


def require(permission: str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Let the view run only for an actor holding ``permission`` (web.permissions).

    API paths: 401 JSON without a valid token, 403 JSON for a role without the permission.
    Pages: redirect to /login when signed out, 403 page otherwise.
    """
    from web.permissions import PERMISSIONS

    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r} (add it to web.permissions)")

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            actor = current_actor()
            if actor is None:
                return _unauthenticated()
            if not actor.can(permission):
                return _forbidden(f"role {actor.role} may not {permission}")
            return view(*args, **kwargs)

        wrapper.sitegate_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def require_login(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Any signed-in employee (e.g. GET /me)."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if current_actor() is None:
            return _unauthenticated()
        return view(*args, **kwargs)

    return wrapper


def _unauthenticated() -> Response:
    from web.errors import error_response, is_api_request

    if is_api_request():
        return error_response(401, "missing, invalid or revoked bearer token")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _forbidden(message: str) -> Response:
    from web.errors import error_response, is_api_request

    if is_api_request():
        return error_response(403, message)
    abort(403, description=message)


# ---- sign-in pages --------------------------------------------------------------------


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: no open redirect through ?next=."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _home() -> str:
    for endpoint in ("panel.index", "handheld.index"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("auth.login")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        from zones.services import people

        name = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        employee = people.authenticate_password(db_session(), name, password)
        if employee is not None:
            login_user(actor_of(employee))
            start_session(employee.session_generation)
            return redirect(_safe_next(request.args.get("next")) or _home())
        log.info("failed sign-in for user %r from %s", name, request.remote_addr)
        error = N_("Wrong user name or password.")
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, has_base=_has_base_layout()), status


def start_session(generation: int) -> None:
    """Tie this session to the employee's current generation (after sign-in, or after they
    changed their own password: their other sessions end, this one goes on)."""
    session[GENERATION_KEY] = generation
    session[SEEN_KEY] = _clock()


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        from zones.services.people import end_sessions

        end_sessions(db_session(), int(current_user.get_id()))
    logout_user()
    session.pop(GENERATION_KEY, None)
    session.pop(SEEN_KEY, None)
    flash(N_("Signed out."), "info")
    return redirect(url_for("auth.login"))


def _has_base_layout() -> bool:
    # base.html links to the panel's endpoints; an app built without the pages has none
    return "panel" in current_app.blueprints


def _account_key() -> str:
    return "account:" + request.form.get("username", "").strip().casefold()


def _failed(response: Response) -> bool:
    # a successful sign-in redirects; only refusals count against the limits
    return response.status_code != 302


def _load_user(user_id: str) -> Actor | None:
    """The session's employee, while the session is still valid: the employee is active,
    the session's generation is theirs, and it was used within ``[web] idle_minutes``."""
    from zones.errors import NotFound
    from zones.services._common import employee

    try:
        emp = employee(db_session(), int(user_id))  # a deactivated employee's session ends
    except (ValueError, NotFound):
        return None
    idle_s = sitegate().config.web.idle_minutes * 60
    now = _clock()
    seen = session.get(SEEN_KEY)
    if (
        session.get(GENERATION_KEY) != emp.session_generation
        or not isinstance(seen, int | float)
        or now - seen > idle_s
    ):
        session.clear()
        return None
    session[SEEN_KEY] = now
    return actor_of(emp)


def init_app(app: Flask) -> None:
    """Sign-in machinery for ``app``; call after ``bp`` is registered."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.user_loader(_load_user)
    manager.init_app(app)

    # one Limiter per app so test apps do not share counts or enabled state
    limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")
    limiter.init_app(app)
    app.extensions["sitegate_limiter"] = limiter
    view: Any = app.view_functions["auth.login"]  # wrapped by each limit in turn
    for limit, key in ((LOGIN_LIMIT_PER_ACCOUNT, _account_key), (LOGIN_LIMIT_PER_ADDRESS, get_remote_address)):
        view = limiter.limit(
            limit,
            key_func=key,
            methods=["POST"],
            deduct_when=_failed,
            error_message="too many sign-in attempts; wait a minute",
        )(view)
    app.view_functions["auth.login"] = view
