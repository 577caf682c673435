"""The one permission table of SiteGate: which role may do what, for pages and API alike.

Every view (page or API) names one permission from ``PERMISSIONS`` through
``web.auth.require``; nothing else in the web decides by role. Row-level limits that a
role table cannot express live beside it here as small predicates:

- an escort sees only their own visitors (the escort named on a contact form that is not
  revoked, or the host of a visit): ``own_visitors_only`` says who is limited, and the
  queries filter by zones.services.queries.visitors.own_visitor; anything else is a 404,
  as if it did not exist; a card lookup names only them and their own visitors
  (``lookup_limit``);
- identity and phone numbers are masked for every role except ``safety_officer`` (R20:
  "shown masked outside the safety officer's own views"). Admin stays masked on purpose:
  an administrator manages accounts and configuration, not visitors, and R20 names only
  the safety officer; least privilege keeps personal data with the one role the rule names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from zones.facts import PersonFacts

Role = Literal["admin", "safety_officer", "reception", "escort", "guard"]
ROLES: tuple[Role, ...] = get_args(Role)


def _roles(*names: Role) -> frozenset[Role]:
    # admin manages users and may do everything
    return frozenset(names) | {"admin"}


PERMISSIONS: dict[str, frozenset[Role]] = {
    # reception registers visitors and visits, issues badges (R1-R4); so does the safety
    # office, which receives visitors itself outside office hours and on small sites
    "visitors.read": _roles("reception", "safety_officer", "escort"),  # escort: own only
    "visitors.write": _roles("reception", "safety_officer"),
    "visits.write": _roles("reception", "safety_officer"),
    "badges.write": _roles("reception", "safety_officer"),
    # R12: helmets are issued at the safety office; reception hands them out at the desk too
    "helmets.write": _roles("reception", "safety_officer"),
    # R5: reception records a form request (pending); the department's officer approves it
    "forms.write": _roles("reception", "safety_officer"),
    # R5: a department's head (any role) or safety officer approves for that department
    # only; the service checks who heads or serves which department
    "forms.approve": _roles("safety_officer", "escort", "reception", "guard"),
    "education.write": _roles("safety_officer"),  # R6-R8
    "breaches.write": _roles("safety_officer"),  # R17
    "emergency.write": _roles("safety_officer"),  # R16 officer's button
    "passback.reset": _roles("safety_officer"),  # R15
    # handheld lookup at a gate: escorts and guards check before walking to the turnstile
    "zones.check": _roles("escort", "guard", "safety_officer", "reception"),
    "occupancy.read": _roles("guard", "safety_officer", "escort"),
    "muster.read": _roles("guard", "safety_officer", "escort"),  # R16
    "muster.mark": _roles("guard", "safety_officer", "escort"),  # R16 escorts and wardens
    "events.read": _roles("guard", "safety_officer"),  # R18
    "stats.read": _roles("safety_officer"),  # R19 for managers
    "users.write": _roles(),
    "departments.write": _roles(),  # naming department heads (R5)
    "employees.read": _roles("reception", "safety_officer"),  # choosing hosts/escorts
    "gates.read": _roles("guard", "safety_officer"),
    # R21-R23: reception records incidents and complaints; the routed / responsible
    # department's members (any role) and safety officers handle them (zones.services.
    # reception_incidents.may_handle checks the department); guards read
    "reception.write": _roles("reception", "safety_officer"),
    "reception.handle": _roles("safety_officer", "reception", "escort"),  # + own department
    "reception.read": _roles("reception", "safety_officer", "escort", "guard"),
    # the registers as .xlsx / .csv; personal data masked except for the safety officer (R20)
    "exports.read": _roles("reception", "safety_officer"),
    # alerts: each role sees only those it is concerned by (zones.services.custody)
    "alerts.read": _roles("safety_officer", "escort", "guard", "reception"),
    # R10: an escort takes unescorted visitors over; a safety officer hands them to one
    "alerts.take_over": _roles("safety_officer", "escort"),
}


def allowed(role: str | None, permission: str) -> bool:
    """True when ``role`` holds ``permission``. Unknown permissions raise KeyError, so a typo
    in a view fails its first test instead of silently denying (or allowing)."""
    roles = PERMISSIONS[permission]
    return role in roles


def can_see_identity(role: str | None) -> bool:
    """R20: identity numbers and phone numbers unmasked only in the safety officer's views."""
    return role == "safety_officer"


def own_visitors_only(role: str | None) -> bool:
    """An escort reads only their own visitors: those they escort or host."""
    return role == "escort"


def lookup_limit() -> Callable[[PersonFacts], bool] | None:
    """Whom the signed-in employee's card lookup (handheld page, GET /zones/{zone}/check) may
    name: an escort only themselves and their own visitors (any other card answers as an
    unknown one, zones.services.card_check); None for roles that see every cardholder."""
    from web.auth import current_actor
    from web.context import db_session
    from zones.services.queries.visitors import may_know_cardholder

    actor = current_actor()
    if actor is None or not own_visitors_only(actor.role):
        return None
    session, me = db_session(), actor.id
    return lambda person: may_know_cardholder(session, me, person.person_id)


def permissions_of(role: str | None) -> frozenset[str]:
    """Every permission ``role`` holds (for templates: show only what the user may use)."""
    return frozenset(p for p, roles in PERMISSIONS.items() if role in roles)


__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Role",
    "allowed",
    "can_see_identity",
    "lookup_limit",
    "own_visitors_only",
    "permissions_of",
]
