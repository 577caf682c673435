"""Helpers every page (panel and handheld) shares: the signed-in employee and which
visitors they may see, the template context, form parsing, turning domain errors into form
messages, and times shown in the site's timezone.

Views stay thin (style.md): they parse the form with these helpers, call a service or a
query in zones.services and render; they build no SQL themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, flash, request, url_for
from werkzeug.datastructures import MultiDict

from web.api.fields import (
    CARD_MAX,
    FIRST_DAY,
    LAST_DAY,
    MAX_ID,
    NAME_MAX,
    SIGNATURE_MAX,
    TEXT_MAX,
    refused_character,
)
from web.auth import Actor, current_actor
from web.context import db_session, sitegate
from web.i18n import N_, error_text, site_title, translate
from web.i18n import zone_name as i18n_zone_name
from web.permissions import can_see_identity, own_visitors_only, permissions_of
from zones.calendar import age_on
from zones.errors import DomainError, ValidationFailed
from zones.idcard import mask
from zones.services.queries.visitors import is_own_visitor
from zones.services.site import read_emergency

# (endpoint, label, permission or None, endpoint prefix(es) that mark the entry active)
PANEL_NAV: list[tuple[str, str, str | None, str | tuple[str, ...]]] = [
    ("panel.index", N_("Dashboard"), None, "panel.index"),
    ("panel.visitors", N_("Visitors"), "visitors.read", "panel.visitor"),
    ("panel.visits", N_("Visits"), "visitors.read", ("panel.visits", "panel.visit_")),
    ("panel.forms", N_("Contact forms"), "forms.write", "panel.form"),
    ("panel.education_new", N_("Education"), "education.write", "panel.education"),
    ("panel.expiring", N_("Expiring soon"), "visitors.read", "panel.expiring"),
    ("panel.events", N_("Gate events"), "events.read", "panel.events"),
    ("panel.breaches", N_("Breaches and bans"), "breaches.write", "panel.breach"),
    ("panel.stats", N_("Statistics"), "stats.read", "panel.stats"),
    ("panel.muster", N_("Muster"), "muster.read", "panel.muster"),
    ("panel.incidents_page", N_("Incidents"), "reception.read", "panel.incident"),
    ("panel.complaints_page", N_("Complaints"), "reception.read", "panel.complaint"),
    ("panel.users", N_("Users"), "users.write", "panel.user"),
    ("panel.account_password", N_("My password"), None, "panel.account"),
]

ROLE_LABELS = {
    "admin": N_("Administrator"),
    "safety_officer": N_("Safety officer"),
    "reception": N_("Reception"),
    "escort": N_("Escort"),
    "guard": N_("Guard"),
}


def actor() -> Actor:
    """The signed-in employee; page views run behind ``require``, so there is one."""
    who = current_actor()
    assert who is not None, "page view without web.auth.require"
    return who


def own_visitors_of() -> int | None:
    """The employee id whose own visitors this viewer is limited to (an escort:
    web.permissions.own_visitors_only), or None for roles that see every visitor."""
    who = actor()
    return who.id if own_visitors_only(who.role) else None


def may_see_visitor(visitor_id: int) -> bool:
    """Whether this viewer may open the visitor's record and cards."""
    escort = own_visitors_of()
    return escort is None or is_own_visitor(db_session(), escort, visitor_id)


def shows_identity() -> bool:
    """R20: identity and phone numbers in clear only in the safety officer's views."""
    who = current_actor()
    return who is not None and can_see_identity(who.role)


def personal(value: str | None) -> str:
    """An identity or phone number as this viewer may see it (R20)."""
    if not value:
        return ""
    return value if shows_identity() else (mask(value) or "")


def birth_or_age(birth: date | None) -> str:
    """A birth date as this viewer may see it (R20): the date for the safety officer, the
    age in whole years for everyone else (enough for R13's minimum age)."""
    if birth is None:
        return ""
    if shows_identity():
        return birth.isoformat()
    return translate("age {years}", years=age_on(birth, local_now().date()))


# ---- times -----------------------------------------------------------------------------


def site_tz() -> ZoneInfo:
    return ZoneInfo(sitegate().config.site.timezone)


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware time shown in the site's timezone."""
    if value is None:
        return ""
    return value.astimezone(site_tz()).strftime(fmt)


def parse_local_datetime(text: str | None, field: str, problems: list[tuple[str, str]]) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` from a datetime-local input, read in the site's timezone, in
    the years the API accepts (web.api.fields)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        problems.append((field, translate("expected a date and time")))
        return None
    if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
        problems.append((field, translate("expected a date and time")))
        return None
    return value.replace(tzinfo=site_tz())


def parse_date(text: str | None, field: str, problems: list[tuple[str, str]]) -> date | None:
    """``YYYY-MM-DD`` between the years the API accepts (web.api.fields)."""
    if not text:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or not FIRST_DAY <= value <= LAST_DAY:
        problems.append((field, translate("expected a date (YYYY-MM-DD)")))
        return None
    return value


def parse_int(
    text: str | None, field: str, problems: list[tuple[str, str]], *, required: bool = True, maximum: int = MAX_ID
) -> int | None:
    """A whole number 1..``maximum`` from a form field (by default a row id, 1..2^31-1)."""
    if not text:
        if required:
            problems.append((field, translate("required")))
        return None
    text = text.strip()
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= len(str(maximum)) else 0
    if not 1 <= value <= maximum:
        problems.append((field, translate("expected a number")))
        return None
    return value


def local_now() -> datetime:
    return datetime.now(site_tz())


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=site_tz())


# ---- errors ----------------------------------------------------------------------------


class FormErrors(dict[str, str]):
    """Field -> message, filled from a ValidationFailed (or a view's own checks)."""

    def add(self, pairs: list[tuple[str, str]]) -> None:
        for field, message in pairs:
            message = error_text(message)
            self[field] = f"{self[field]}; {message}" if field in self else message


@contextmanager
def domain_errors(errors: FormErrors) -> Iterator[None]:
    """Run a service call; its domain error becomes a form message instead of an error page.

    ValidationFailed goes to the named fields; Conflict, NotAllowed and NotFound become a
    flash (with what is in the way, e.g. the badge and helmet still out at check-out)."""
    try:
        yield
    except ValidationFailed as err:
        db_session().rollback()
        errors.add(err.fields)
        flash(translate("Please correct the marked fields."), "error")
    except DomainError as err:  # Conflict, NotAllowed, NotFound: what is in the way
        db_session().rollback()
        errors["_"] = error_text(err)
        flash(errors["_"], "error")


def safe_local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site (no open redirect through ``next``, no
    header split through a line break in it)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if refused_character(target):
        return None
    return target


# free-text form fields, which may hold line breaks and tabs; a signature is a data URL
_MULTILINE_FIELDS = frozenset({"note", "reason", "purpose", "notes"})
# the fields whose column is shorter than free text (zones.schema), as the API models bound them
_FIELD_LIMITS = {
    "signature": SIGNATURE_MAX,
    "name": NAME_MAX,
    "organisation": NAME_MAX,
    "username": NAME_MAX,
    "phone": 40,
    "id_number": CARD_MAX,
    "card": CARD_MAX,
    "escort": CARD_MAX,
    "helmet_no": 32,
    "department": 100,
}


def check_page_input() -> None:
    """Refuse, before any page view runs, a query or form value a field would refuse (web.api
    .fields): longer than a text field holds, or with control or bidirectional characters
    (a CR/LF in ``next=``, a name that reads backwards). The same limits as the API, so no
    page reaches a service with a value it cannot store; a 422 error page (a body over the
    request limit is a 413 before this runs)."""
    if request.path.startswith("/api/") or request.endpoint == "static":
        return
    values = list(request.args.items(multi=True))
    if request.method == "POST":
        values += list(request.form.items(multi=True))
    for field, value in values:
        if len(value) > _FIELD_LIMITS.get(field, TEXT_MAX):
            abort(422, description=translate("The field {field} is too long.", field=field[:40]))
        bad = refused_character(value, multiline=field in _MULTILINE_FIELDS)
        if bad is None and field != "signature":
            bad = refused_character(field)
        if bad:
            abort(
                422,
                description=translate(
                    "The field {field} contains a control or bidirectional character ({char}).",
                    field=field[:40].encode("unicode_escape").decode("ascii"),
                    char=bad,
                ),
            )


def form_value(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def form_data() -> MultiDict[str, str]:
    return request.form if request.method == "POST" else MultiDict()


# ---- template context ------------------------------------------------------------------


def _context() -> dict[str, Any]:
    who = current_actor() if request else None
    state = read_emergency(db_session()) if who is not None else None
    emergency = state is not None and bool(state.emergency_active)
    home = url_for("auth.login")
    if who is not None:
        home = url_for("handheld.index" if who.role in ("escort", "guard") else "panel.index")
    muster_endpoint = "handheld.muster" if who is not None and who.role in ("escort", "guard") else "panel.muster"
    return {
        "site_name": site_title(),
        "home_url": home,
        "logout_url": url_for("auth.logout"),
        "role_label": lambda role: translate(ROLE_LABELS.get(role, role or "")),
        "perms": permissions_of(who.role) if who else frozenset(),
        "panel_nav": PANEL_NAV,
        "emergency_active": emergency,
        "emergency_reason": state.emergency_reason if state is not None and emergency else None,
        "muster_url": url_for(muster_endpoint) if who is not None else None,
        "local_time": local_time,
        "personal": personal,
        "birth_or_age": birth_or_age,
        "zone_name": zone_name,
        "now_utc": lambda: datetime.now(UTC),
    }


def zone_name(zone_id: str | None) -> str:
    """The zone's name in the page language (web.i18n.zone_name)."""
    return i18n_zone_name(zone_id)


def init_pages(app: Flask) -> None:
    """Context processor, filters and i18n for every template (idempotent; both blueprints
    call it when registered)."""
    from web import i18n

    i18n.init_app(app)
    if app.extensions.get("sitegate_pages"):
        return
    app.extensions["sitegate_pages"] = True
    app.context_processor(_context)
    app.before_request(check_page_input)
    app.jinja_env.filters.update(zone_name=zone_name, personal=personal, local_time=local_time)
