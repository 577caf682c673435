"""Visitors: search, register (R2), and the full record (visits, forms, education, badges,
helmets, breaches) with, per zone, what the gate will check and what to do about each cross
(zones.services.readiness). Identity and phone numbers are masked except for safety officers
(R20); an escort sees only their own visitors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from web.auth import require
from web.context import db_session, sitegate
from web.i18n import N_, translate
from web.panel.blueprint import bp
from web.panel.common import (
    FormErrors,
    actor,
    domain_errors,
    form_data,
    local_now,
    may_see_visitor,
    own_visitors_of,
    parse_date,
    shows_identity,
)
from web.permissions import permissions_of
from zones.schema import ID_TYPES, ContactForm
from zones.services.people import register_visitor
from zones.services.queries.visitors import VisitorRecord, search_visitors
from zones.services.queries.visitors import visitor_record as full_record
from zones.services.readiness import RuleCheck, ZoneReadiness, visitor_readiness
from zones.services.site import reset_passback

# The action that fixes a cross on the readiness checklist: (endpoint or #anchor on the
# visitor page, label, permission), by the reason's code first, else by the rule. Endpoints
# that take the visitor (booking, forms, education) open with them chosen.
Fix = tuple[str, str, str]
FIX_BY_CODE: dict[str, Fix | None] = {
    "walk-in-not-approved": ("panel.visits", N_("Approve a walk-in exception"), "forms.approve"),
    "badge-lost": ("panel.visits", N_("Issue a new badge"), "badges.write"),
    "outside-hours": ("panel.form_new", N_("Contact form allowing entry outside hours"), "forms.write"),
    "passback": ("#where-now", N_("Reset anti-passback"), "passback.reset"),
    "zone-full": None,  # R15: wait for someone to leave
}
FIX_BY_RULE: dict[str, Fix] = {
    "R1": ("panel.visit_new", N_("Book a visit"), "visits.write"),
    "R2": ("panel.visits", N_("Check in at reception"), "visits.write"),
    "R3": ("panel.visits", N_("Issue a badge"), "badges.write"),
    "R5": ("panel.form_new", N_("New contact form"), "forms.write"),
    "R7": ("panel.education_new", N_("Record education"), "education.write"),
    "R8": ("panel.education_new", N_("Record education"), "education.write"),
    "R9": ("panel.education_new", N_("Record education naming the zone"), "education.write"),
    "R10": ("panel.form_new", N_("Name an escort on a contact form"), "forms.write"),
    "R12": ("#helmet", N_("Issue a helmet"), "helmets.write"),
    "R14": ("panel.form_new", N_("New contact form"), "forms.write"),
    "R16": ("panel.muster", N_("Open the muster"), "muster.read"),
    "R21": ("panel.incidents_page", N_("See the incidents"), "reception.read"),
}
# a form waiting for approval fixes R5 (and so R10's escort of record) once approved
APPROVE_PENDING: Fix = ("panel.forms", N_("Approve the pending contact form"), "forms.approve")
_TAKES_VISITOR = {"panel.visit_new", "panel.form_new", "panel.education_new"}


@bp.get("/visitors")
@require("visitors.read")
def visitors() -> Any:
    text = request.args.get("q", "")
    # R20: only the safety officer may find a visitor by identity or phone number
    by_number = shows_identity()
    rows = search_visitors(db_session(), text, own_visitors_of=own_visitors_of(), by_number=by_number)
    return render_template("panel/visitors.html", rows=rows, text=text, by_number=by_number)


@bp.route("/visitors/new", methods=["GET", "POST"])
@require("visitors.write")
def visitor_new() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        birth = parse_date(f.get("birth_date"), "birth_date", problems)
        errors.add(problems)
        if not problems:
            with domain_errors(errors):
                v = register_visitor(
                    db_session(),
                    name=f.get("name", ""),
                    id_type=f.get("id_type", ""),
                    id_number=f.get("id_number", ""),
                    organisation=f.get("organisation", "").strip(),
                    phone=f.get("phone", "").strip() or None,
                    birth_date=birth,
                )
                flash(translate("Visitor {name} registered.", name=v.name), "success")
                return redirect(url_for("panel.visitor_record", visitor_id=v.id))
    return render_template("panel/visitor_new.html", errors=errors, form=form_data(), id_types=ID_TYPES)


@bp.get("/visitors/<int:visitor_id>")
@require("visitors.read")
def visitor_record(visitor_id: int) -> Any:
    if not may_see_visitor(visitor_id):
        abort(404)  # an escort sees only their own visitors; do not confirm the id exists
    record = full_record(db_session(), visitor_id)
    site = sitegate()
    readiness = visitor_readiness(db_session(), visitor_id, site.zones.values(), site.policy, datetime.now(UTC))
    fixes = {
        (z.zone.id, c.rule): fix
        for z in readiness or ()
        for c in z.checks
        if c.reasons and (fix := _fix_link(record, z, c)) is not None
    }
    return render_template("panel/visitor.html", r=record, today=local_now().date(), readiness=readiness, fixes=fixes)


def _fix_link(record: VisitorRecord, z: ZoneReadiness, check: RuleCheck) -> tuple[str, str] | None:
    """(url, label) of the action that fixes the cross, if this viewer may take it."""
    fix = FIX_BY_RULE.get(check.rule)
    for r in check.reasons:
        if r.code in FIX_BY_CODE:
            fix = FIX_BY_CODE[r.code]
            break
    if check.rule in ("R5", "R10") and _pending_form(record.forms, z):
        fix = APPROVE_PENDING
    if fix is None or fix[2] not in permissions_of(actor().role):
        return None
    target, label, _permission = fix
    if target.startswith("#"):
        return target, translate(label)
    if target in _TAKES_VISITOR:
        return url_for(target, visitor_id=record.visitor.id), translate(label)
    return url_for(target), translate(label)


def _pending_form(forms: list[ContactForm], z: ZoneReadiness) -> bool:
    """A form for the zone waits for approval and is still to be valid (R5)."""
    return any(f.state == "pending" and z.zone.id in f.zone_ids and f.valid_until > z.at for f in forms)


@bp.post("/visitors/<int:visitor_id>/passback-reset")
@require("passback.reset")
def visitor_passback_reset(visitor_id: int) -> Any:
    """R15: a safety officer clears the visitor's "inside" record so they may enter again."""
    zone = request.form.get("zone", "")
    with domain_errors(FormErrors()):
        if reset_passback(db_session(), visitor_id, zone, actor().id):
            flash(translate("Anti-passback reset: the visitor may enter again (R15)."), "success")
    return redirect(url_for("panel.visitor_record", visitor_id=visitor_id))
