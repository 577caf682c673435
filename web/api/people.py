"""API: the caller and employees (GET /me, GET /employees)."""

from __future__ import annotations

from web.api import models as m
from web.api.present import employee_out
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session
from zones.services import _common
from zones.services.queries.people import employees as active_employees


@api_route("GET", "/me", permission=None, response=m.EmployeeOut)
def me() -> m.EmployeeOut:
    """The caller: the employee the bearer token belongs to."""
    actor = current_actor()
    assert actor is not None  # require_login ran
    return employee_out(_common.employee(db_session(), actor.id))


@api_route("GET", "/employees", permission="employees.read", query=m.EmployeeQuery, response=m.EmployeeOut, many=True)
def employees(query: m.EmployeeQuery) -> list[m.EmployeeOut]:
    """Active employees, filtered by card, role and department."""
    rows = active_employees(db_session(), card=query.card, role=query.role, department=query.department)
    return [employee_out(e) for e in rows]
