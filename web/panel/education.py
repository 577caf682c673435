"""Safety education (R6): record it while the visitor signs the notification card on screen
(R7, canvas -> PNG data URL), and the printable education card with its valid-until date
(R8), the zones whose hazards were told (R9), the permissions the visitor's forms grant and
R13's seven prohibitions in the regulation's words."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from web.auth import require
from web.context import db_session, sitegate
from web.i18n import translate
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
from zones.services.breaches import PROHIBITIONS
from zones.services.education import EDUCATION_TOPICS, record_education
from zones.services.forms import granted_permissions
from zones.services.queries.education import education_with_card
from zones.services.queries.visitors import search_visitors


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
        errors.add(problems)
        if not problems:
            assert visitor_id is not None
            site = sitegate()
            with domain_errors(errors):
                edu = record_education(
                    db_session(),
                    visitor_id=visitor_id,
                    department=f.get("department", ""),
                    method=f.get("method", ""),
                    topics=f.getlist("topics"),
                    delivered_at=delivered,
                    educator_id=actor().id,
                    signature=signature,
                    zones=f.getlist("zones"),
                    known_zones=site.zones,
                    valid_months=site.policy.education_valid_months,
                    retention_months=site.policy.notification_retention_months,
                    record_delay_days=site.config.rules.education_record_delay_days,
                    safety_department=site.policy.safety_department,
                    dispatch_department=site.policy.dispatch_department,
                    timezone=site.policy.timezone,
                )
                flash(translate("Education recorded; the card is valid until {date}.", date=edu.valid_until), "success")
                return redirect(url_for("panel.education_card", education_id=edu.id))
    policy = sitegate().policy
    departments = sorted(
        {z.department for z in sitegate().zones.values()} | {policy.safety_department, policy.dispatch_department}
    )
    return render_template(
        "panel/education_new.html",
        errors=errors,
        form=form_data(),
        visitors=search_visitors(db_session()),
        departments=departments,
        zones=list(sitegate().zones.values()),
        topics=list(EDUCATION_TOPICS.items()),
        preselect=request.args.get("visitor_id", ""),
        default_department=actor().department or "",
        now=local_now().strftime("%Y-%m-%dT%H:%M"),
    )


@bp.get("/education/<int:education_id>/card")
@require("visitors.read")
def education_card(education_id: int) -> Any:
    session = db_session()
    edu, visitor, card, educator = education_with_card(session, education_id)
    if not may_see_visitor(visitor.id):
        abort(404)  # an escort sees only their own visitors' cards
    return render_template(
        "panel/education_card.html",
        edu=edu,
        visitor=visitor,
        card=card,
        educator=educator,
        topics=[EDUCATION_TOPICS.get(t, t) for t in edu.topics or []],
        zones=[sitegate().zones[z].name if z in sitegate().zones else z for z in edu.zones or []],
        permissions=granted_permissions(session, visitor.id),
        prohibitions=list(PROHIBITIONS.items()),
    )
