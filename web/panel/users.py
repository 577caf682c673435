"""Accounts: the administrator's users pages (list, reset a password, deactivate, see and
revoke a user's API tokens) and every employee's own password change (issue 10).

Tokens are shown by id and dates, never by value (only their hashes are stored). Setting a
password ends the employee's other page sessions (zones.services.people); the session
that made the change goes on when it was the employee's own.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.auth import require, require_login, start_session
from web.context import db_session, sitegate
from web.i18n import N_, translate
from web.panel.blueprint import bp
from web.panel.common import FormErrors, actor, domain_errors
from zones.schema import Employee
from zones.services import people

TOKEN_STATES = {"active": N_("active"), "expired": N_("expired"), "revoked": N_("revoked")}


def _employee(employee_id: int) -> Employee:
    emp = db_session().get(Employee, employee_id)
    if emp is None:
        abort(404)
    return emp


def _new_password(errors: FormErrors) -> str | None:
    """The form's new password when it was typed twice alike."""
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        errors["password_again"] = translate("the two passwords differ")
        return None
    return password


@bp.get("/users")
@require("users.write")
def users() -> Any:
    return render_template("panel/users.html", users=people.list_users(db_session()))


@bp.get("/users/<int:employee_id>")
@require("users.write")
def user(employee_id: int, errors: FormErrors | None = None) -> Any:
    emp = _employee(employee_id)
    tokens = [(t, people.token_state(t)) for t in people.list_tokens(db_session(), emp.id)]
    status = 400 if errors else 200
    page = render_template(
        "panel/user.html", user=emp, tokens=tokens, states=TOKEN_STATES, errors=errors or FormErrors()
    )
    return page, status


@bp.post("/users/<int:employee_id>/password")
@require("users.write")
def user_password(employee_id: int) -> Any:
    emp = _employee(employee_id)
    errors = FormErrors()
    password = _new_password(errors)
    if password is not None:
        with domain_errors(errors):
            generation = people.set_password(
                db_session(), emp.id, password, min_length=sitegate().config.web.min_password_length
            )
            if emp.id == actor().id:
                start_session(generation)
            flash(translate("Password of {name} set; their other sessions ended.", name=emp.name), "success")
            return redirect(url_for("panel.user", employee_id=emp.id))
    return user(employee_id, errors)


@bp.post("/users/<int:employee_id>/deactivate")
@require("users.write")
def user_deactivate(employee_id: int) -> Response:
    emp = _employee(employee_id)
    if emp.id == actor().id:
        flash(translate("You cannot deactivate your own account."), "error")
    else:
        errors = FormErrors()
        with domain_errors(errors):
            people.deactivate_user(db_session(), emp.id)
            flash(translate("{name} deactivated: no sign-in, tokens revoked.", name=emp.name), "success")
    return redirect(url_for("panel.user", employee_id=emp.id))


@bp.post("/users/<int:employee_id>/tokens/revoke")
@require("users.write")
def user_revoke_tokens(employee_id: int) -> Response:
    emp = _employee(employee_id)
    token_id = request.form.get("token_id", "")
    errors = FormErrors()
    with domain_errors(errors):
        n = people.revoke_tokens(db_session(), emp.id, int(token_id) if token_id.isdigit() else None)
        flash(translate("{n} token(s) revoked.", n=n), "success")
    return redirect(url_for("panel.user", employee_id=emp.id))


@bp.route("/account/password", methods=["GET", "POST"])
@require_login
def account_password() -> Any:
    errors = FormErrors()
    if request.method == "POST":
        password = _new_password(errors)
        if password is not None:
            with domain_errors(errors):
                generation = people.set_password(
                    db_session(),
                    actor().id,
                    password,
                    min_length=sitegate().config.web.min_password_length,
                    current=request.form.get("current_password", ""),
                )
                start_session(generation)
                flash(translate("Password changed; your other sessions ended."), "success")
                return redirect(url_for("panel.account_password"))
    status = 400 if errors else 200
    minimum = sitegate().config.web.min_password_length
    return render_template("panel/account_password.html", errors=errors, minimum=minimum), status
