"""The standing bad-input campaign against the API (issue 10): schemathesis generates
requests for every operation of /api/v1/openapi.json, valid and invalid ones, and sends them
as each role to the WSGI app in-process (no server). Every answer must be no server error,
a status the document lists, and a body in the documented shape (the contract's errors
included). The document itself is validated against the OpenAPI 3.1 schema.

Runs on SQLite and PostgreSQL (PostgreSQL refuses an id past its INTEGER columns, which
SQLite stores). Bounded so CI stays fast: ``EXAMPLES`` cases per operation, role and mode. The counts of the
last run are printed (``-s``) and kept in the README's "Reliability" section.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.api.conftest import Api
from web.api.registry import ROUTES

EXAMPLES = 4  # per operation, role and generation mode
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ["admin", "safety_officer", "reception", "escort", "guard"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_openapi_document_is_valid_openapi_3_1(api: Api) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    document = api.client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def _run(
    operation: Any, mode: GenerationMode, role: str, token: str, cases: Counter[str], statuses: Counter[int]
) -> list[str]:
    """``EXAMPLES`` generated cases of one operation as one role; the failures found."""
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        cases[operation.label] += 1
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as err:  # schemathesis' failure group, collected rather than shrunk
            failures.append(f"{role} {mode} {operation.label} {response.status_code}: {str(err)[:400]}")

    run()
    return failures


def test_every_operation_as_every_role_answers_in_the_contract(api: Api) -> None:
    api.seed_visitor()  # some rows, so ids and cards can name something
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api.app)
    results = list(schema.get_all_operations())
    assert all(isinstance(r, Ok) for r in results), [r.err() for r in results if isinstance(r, Err)]
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    for operation in operations:
        for role in ROLES:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failures += _run(operation, mode, role, api.tokens[role], cases, statuses)

    total = sum(cases.values())
    print(
        f"\nschemathesis campaign: {len(operations)} operations, {len(ROLES)} roles, {total} cases, "
        f"{len(failures)} failures; statuses {dict(sorted(statuses.items()))}"
    )
    assert len(operations) == len(ROUTES) and all(cases[op.label] for op in operations)
    assert not failures, "\n".join(failures[:20])
    assert not [s for s in statuses if s >= 500]
