"""Safety education (R6): record it while the visitor signs the notification card on screen
(R7, canvas -> PNG data URL), and the printable education card with its valid-until date
(R8), the zones whose hazards were told (R9), the permissions the visitor's forms grant and
R13's seven prohibitions in the regulation's words.

The notification card's text (``notification_text``: the hazards of the zones told and
R13) is written once here: the signing page shows it above the signature pad, in each
language so the visitor reads it in theirs, and the printed card shows the same text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from web.auth import require
from web.context import db_session, sitegate
from web.i18n import LANGUAGES, N_, current_language, translate
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
from zones.errors import Problem, ValidationFailed
from zones.facts import Zone
from zones.services.breaches import PROHIBITIONS
from zones.services.education import EDUCATION_TOPICS, record_education
from zones.services.forms import granted_permissions
from zones.services.queries.education import education_with_card
from zones.services.queries.visitors import search_visitors
from zones.services.queries.visits import open_visit_id
from zones.services.reception_incidents import admit_inspector


@dataclass(frozen=True)
class NotificationText:
    """The notification card's text in one language: each zone's hazards as (zone id, line),
    then R13's prohibitions as (number, text)."""

    lang: str
    title: str
    zones_heading: str
    zones: list[tuple[str, str]]
    no_zones: str
    prohibitions_heading: str
    prohibitions: list[tuple[int, str]]
    closing: str


def notification_text(zones: Iterable[Zone], lang: str) -> NotificationText:
    """What the visitor signs (R7): the hazards of ``zones`` (R9: a high-risk zone's are told
    in writing on the card; R12 helmet; R14 hours) and the seven prohibitions (R13), in
    ``lang``."""
    sep = "" if lang == "zh" else " "  # Chinese sentences end in 。 and take no space

    def hazards(zone: Zone) -> str:
        notes = [
            translate(N_("High-risk zone, its hazards told in writing on this card (R9)."), lang)
            if zone.risk == "high-risk"
            else translate(N_("General zone, its hazards told at education."), lang)
        ]
        if zone.helmet:
            notes.append(translate(N_("A safety helmet must be worn (R12)."), lang))
        if zone.hours is not None:
            notes.append(translate(N_("Open {hours} only (R14)."), lang, hours=str(zone.hours)))
        return translate(N_("{zone}: {notes}"), lang, zone=zone.name, notes=sep.join(notes))

    return NotificationText(
        lang=lang,
        title=translate(N_("Safety notification card"), lang),
        zones_heading=translate(N_("Zones whose hazards were told"), lang),
        zones=[(z.id, hazards(z)) for z in zones],
        no_zones=translate(N_("No zone is named on this card."), lang),
        prohibitions_heading=translate(N_("The seven prohibitions (R13)"), lang),
        prohibitions=[(n, translate(text, lang)) for n, text in PROHIBITIONS.items()],
        closing=translate(N_("I was told the above and will obey it; I sign this card (R7)."), lang),
    )


@bp.route("/education/new", methods=["GET", "POST"])
@require("education.write")
def education_new() -> Any:
    errors = FormErrors()
    # from a category C incident (R21): the inspector's walk-in with this briefing
    bad: list[tuple[str, str]] = []
    incident_id = parse_int(request.values.get("incident_id"), "incident_id", bad, required=False)
    if bad:
        abort(404)
    if request.method == "POST":
        f = request.form
        problems: list[tuple[str, str]] = []
        visitor_id = parse_int(f.get("visitor_id"), "visitor_id", problems)
        delivered = parse_local_datetime(f.get("delivered_at"), "delivered_at", problems) or local_now()
        signature = f.get("signature", "").strip() or None
        errors.add(problems)
        if not problems and incident_id is not None:
            assert visitor_id is not None
            if (done := _admit_inspector(incident_id, visitor_id, signature, errors)) is not None:
                return done
        elif not problems:
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
    zones = list(sitegate().zones.values())
    departments = sorted({z.department for z in zones} | {policy.safety_department, policy.dispatch_department})
    # the card's text above the pad in every language, the page's first: the visitor reads it
    # in theirs (a switch shows the other; static/signature.js)
    languages = sorted(LANGUAGES, key=lambda lang: lang != current_language())
    return render_template(
        "panel/education_new.html",
        errors=errors,
        form=form_data(),
        visitors=search_visitors(db_session()),
        departments=departments,
        zones=zones,
        card_texts=[notification_text(zones, lang) for lang in languages],
        topics=list(EDUCATION_TOPICS.items()),
        preselect=request.args.get("visitor_id", ""),
        incident_id=incident_id,
        default_department=actor().department or "",
        now=local_now().strftime("%Y-%m-%dT%H:%M"),
    )


def _admit_inspector(incident_id: int, visitor_id: int, signature: str | None, errors: FormErrors) -> Any:
    """R21 C: the safety department's verbal briefing given here, with the walk-in exception
    (R1) for the inspector's open visit; both or neither. None: the form comes back."""
    f, site = request.form, sitegate()
    with domain_errors(errors):
        visit_id = open_visit_id(db_session(), visitor_id)
        if visit_id is None:
            raise ValidationFailed([("visitor_id", Problem("no-open-visit"))])
        edu = admit_inspector(
            db_session(),
            incident_id,
            visit_id=visit_id,
            officer_id=actor().id,
            reason=f.get("reason", ""),
            topics=f.getlist("topics"),
            signature=signature or "",
            zones=f.getlist("zones"),
            known_zones=site.zones,
            policy=site.policy,
        )
        flash(translate("Inspector admitted: walk-in exception and briefing recorded (R1, R6, R21)."), "success")
        return redirect(url_for("panel.education_card", education_id=edu.id))
    return None


@bp.get("/education/<int:education_id>/card")
@require("visitors.read")
def education_card(education_id: int) -> Any:
    session = db_session()
    edu, visitor, card, educator = education_with_card(session, education_id)
    if not may_see_visitor(visitor.id):
        abort(404)  # an escort sees only their own visitors' cards
    site = sitegate()
    told = [site.zones[z] for z in edu.zones or [] if z in site.zones]
    if not edu.zones:  # a record from before cards named zones counts for its department's (R9)
        told = [z for z in site.zones.values() if z.department == edu.department]
    return render_template(
        "panel/education_card.html",
        edu=edu,
        visitor=visitor,
        card=card,
        educator=educator,
        topics=[EDUCATION_TOPICS.get(t, t) for t in edu.topics or []],
        zones=[site.zones[z].name if z in site.zones else z for z in edu.zones or []],
        permissions=granted_permissions(session, visitor.id),
        card_text=notification_text(told, current_language()),
    )
