"""Safety education (R6): record it while the visitor signs the notification card on screen
(R7, canvas -> PNG data URL), and the printable education card with its valid-until date (R8)."""

from __future__ import annotations

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
    parse_int,
    parse_local_datetime,
)
from zones.services.education import record_education
from zones.services.queries.education import education_with_card
from zones.services.queries.visitors import search_visitors

# R6: what education covers; the codes are stored, the labels shown (and translated)
TOPICS: list[tuple[str, str]] = [
    ("hazards", N_("The zone's major hazards and the rules to obey")),
    ("products", N_("What the department produces")),
    ("fire-explosion-poisoning", N_("Fire, explosion and poisoning")),
    ("emergency-rescue", N_("Emergency rescue")),
    ("walking-route", N_("The visitor's walking route")),
    ("evacuation-route", N_("The evacuation route")),
    ("prohibitions", N_("The seven prohibitions (R13)")),
]

# R13: printed on the education card
PROHIBITIONS: list[str] = [
    N_("No cigarettes, lighters or flammables."),
    N_("No mobile phones; no cameras or other non-explosion-proof electrical devices without permission."),
    N_("Do not operate equipment, facilities or tools."),
    N_("Wear proper clothing."),
    N_("No private vehicles inside."),
    N_("No minors."),
    N_("Never unescorted."),
]

MAX_SIGNATURE_CHARS = 2_000_000  # a 560x200 PNG is ~20 kB; refuse anything absurd


@bp.route("/education/new", methods=["GET", "POST"])
@require("education.write")
def education_new() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        visitor_id = parse_int(f.get("visitor_id"), "visitor_id", problems)
        delivered = parse_local_datetime(f.get("delivered_at"), "delivered_at", problems) or local_now()
        signature = f.get("signature", "").strip() or None
        if signature and len(signature) > MAX_SIGNATURE_CHARS:
            problems.append(("signature", translate("the signature image is too large")))
        written = f.get("method") == "written"
        if written and not signature:
            # R9: the written notification card is what high-risk zones need; it must be signed
            problems.append(("signature", translate("the visitor must sign the notification card")))
        errors.add(problems)
        if not problems:
            assert visitor_id is not None
            rules = sitegate().config.rules
            with domain_errors(errors):
                edu = record_education(
                    db_session(),
                    visitor_id=visitor_id,
                    department=f.get("department", ""),
                    method=f.get("method", ""),
                    topics=f.getlist("topics"),
                    delivered_at=delivered,
                    educator_id=actor().id,
                    notification_signed=signature is not None,
                    signature=signature,
                    valid_months=rules.education_valid_months,
                    retention_months=rules.notification_retention_months,
                    timezone=sitegate().config.site.timezone,
                )
                flash(translate("Education recorded; the card is valid until {date}.", date=edu.valid_until), "success")
                return redirect(url_for("panel.education_card", education_id=edu.id))
    departments = sorted({z.department for z in sitegate().zones.values()})
    return render_template(
        "panel/education_new.html",
        errors=errors,
        form=form_data(),
        visitors=search_visitors(db_session()),
        departments=departments,
        topics=TOPICS,
        preselect=request.args.get("visitor_id", ""),
        default_department=actor().department or "",
        now=local_now().strftime("%Y-%m-%dT%H:%M"),
    )


@bp.get("/education/<int:education_id>/card")
@require("visitors.read")
def education_card(education_id: int) -> Any:
    edu, visitor, card, educator = education_with_card(db_session(), education_id)
    if not may_see_visitor(visitor.id):
        abort(404)  # an escort sees only their own visitors' cards
    labels = dict(TOPICS)
    return render_template(
        "panel/education_card.html",
        edu=edu,
        visitor=visitor,
        card=card,
        educator=educator,
        topics=[labels.get(t, t) for t in edu.topics or []],
        prohibitions=PROHIBITIONS,
    )
