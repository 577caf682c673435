"""Handheld pages for approvers: the contact forms waiting for the signed-in department
head or safety officer, approved with one tap (R5; a form they created themselves is
marked and asks first, as on the panel); and, for the lookup page, what a
visitor's forms permit (R13: photography, vehicle, ...)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.auth import current_actor, require
from web.context import db_session, sitegate
from web.handheld.views import bp
from web.panel.common import actor
from web.panel.forms import approve_and_tell
from zones.schema import Department, Employee
from zones.services import forms as svc
from zones.services.queries.forms import FormRow, contact_forms


def _me() -> Employee:
    me = db_session().get(Employee, actor().id)
    assert me is not None  # signed in
    return me


def approves_forms(me: Employee) -> bool:
    """A safety officer, or the head of some department (R5)."""
    if me.role == "safety_officer":
        return True
    return db_session().scalar(select(Department.id).where(Department.head_id == me.id)) is not None


@bp.context_processor
def _handheld_forms_context() -> dict[str, Any]:
    who = current_actor()
    me = db_session().get(Employee, who.id) if who is not None else None
    return {
        "approves_forms": me is not None and approves_forms(me),
        "form_permissions": lambda visitor_id: svc.granted_permissions(db_session(), visitor_id),
    }


def _waiting(me: Employee) -> list[tuple[FormRow, list[str]]]:
    """Pending forms with the departments ``me`` may still approve them for."""
    session = db_session()
    zones = sitegate().zones
    queue = contact_forms(session, {z.id: z.department for z in zones.values()}, state="pending")
    seen: dict[int, FormRow] = {}
    for rows in queue.values():
        for row in rows:
            seen.setdefault(row.form.id, row)
    out = []
    for row in seen.values():
        pending = svc.pending_departments(row.form, zones)
        mine = [d for d in pending if svc.may_approve(session, me, d)]
        if mine:
            out.append((row, mine))
    return out


@bp.get("/forms")
@require("forms.approve")
def pending_forms() -> Any:
    me = _me()
    return render_template("handheld/pending_forms.html", rows=_waiting(me), me=me.id)


@bp.post("/forms/<int:form_id>/approve")
@require("forms.approve")
def approve_form(form_id: int) -> Response:
    approve_and_tell(form_id)
    return redirect(url_for("handheld.pending_forms"))
