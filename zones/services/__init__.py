"""Domain services the web and the CLI call. Each takes a SQLAlchemy Session first,
validates its input, raises a zones.errors.DomainError subclass on refusal, and commits its
own transaction (adding a ``changes`` row whenever a gate decision could change).

The read side lives beside them: zones.services.queries (lists and records for the pages
and the API) and zones.services.card_check (would this card be let into a zone now?)."""

from zones.services.breaches import record_breach
from zones.services.education import notification_card, purge_notification_cards, record_education
from zones.services.forms import (
    approve_contact_form,
    create_contact_form,
    known_departments,
    may_approve,
    revoke_contact_form,
)
from zones.services.items import issue_badge, issue_helmet, report_badge_lost, return_badge, return_helmet
from zones.services.people import (
    authenticate_password,
    authenticate_token,
    create_token,
    create_user,
    department_head,
    find_visitor,
    register_visitor,
    revoke_token,
    set_department_head,
    set_password,
    update_employee,
)
from zones.services.reports import monthly_stats, query_events
from zones.services.site import mark_accounted, muster, read_emergency, reset_passback, set_emergency
from zones.services.visits import (
    active_ban,
    book_visit,
    check_in,
    check_out,
    flag_overdue,
    items_out,
    walk_in_exception,
)

__all__ = [
    "active_ban",
    "approve_contact_form",
    "authenticate_password",
    "authenticate_token",
    "book_visit",
    "check_in",
    "check_out",
    "create_contact_form",
    "create_token",
    "create_user",
    "department_head",
    "find_visitor",
    "flag_overdue",
    "issue_badge",
    "issue_helmet",
    "items_out",
    "known_departments",
    "mark_accounted",
    "may_approve",
    "monthly_stats",
    "muster",
    "notification_card",
    "purge_notification_cards",
    "query_events",
    "read_emergency",
    "record_breach",
    "record_education",
    "register_visitor",
    "report_badge_lost",
    "reset_passback",
    "return_badge",
    "return_helmet",
    "revoke_contact_form",
    "revoke_token",
    "set_department_head",
    "set_emergency",
    "set_password",
    "update_employee",
    "walk_in_exception",
]
