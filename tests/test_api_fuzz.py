"""Schemathesis against our own OpenAPI document: no 5xx, every response matches its schema.

Fixed seed and a bounded number of examples per operation, so CI is repeatable and quick.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tandem.org.tokens import issue_token
from tandem.wsgi import application
from tests.cast import build_cast

# Generating the document needs no database, so the schema loads at collection time.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def bearer(db) -> Iterator[dict[str, str]]:
    cast = build_cast()
    # Requests here go straight to the WSGI handler, whose request signals would close the
    # test's database connection mid-transaction; Django's own test client detaches them too.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {"Authorization": f"Bearer {issue_token(cast.payroll_lead.user, name='fuzz').raw}"}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_it_never_answers_5xx_and_keeps_to_its_schema(case, bearer) -> None:
    case.call_and_validate(headers=bearer, checks=[not_a_server_error, response_schema_conformance])


def test_chained_calls_never_answer_5xx_and_keep_to_the_schema(bearer) -> None:
    """Stateful: schemathesis infers the links between operations from the document (a request's
    id from a list or a submission, then its moves, comments and steps) and runs seeded
    sequences of calls on real ids, so moves run on requests that exist in every state."""
    base = schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: object) -> dict:
            return {"headers": bearer}

        def validate_response(self, response: object, case: object, **kwargs: object) -> None:
            case.validate_response(  # type: ignore[attr-defined]
                response, checks=[not_a_server_error, response_schema_conformance]
            )

    Workflow.run(settings=settings(max_examples=12, stateful_step_count=6, deadline=None, derandomize=True,
                                   suppress_health_check=list(HealthCheck)))
