"""The API fuzzed against its own OpenAPI schema (schemathesis + hypothesis), over real HTTP on
loopback against a real `assistant serve`: valid and invalid requests to every operation, at least
1,000 in all. Never a 5xx; every status is one the schema documents; every 4xx says what went
wrong in a sentence; every 200 matches its schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from webserver import running_server

pytestmark = pytest.mark.server

EXAMPLES = 260  # per operation and mode: the two operations with inputs alone send 2 x 2 x 260 = 1,040


NO_INPUT = {"GET /api/health", "GET /api/widget", "GET /faq"}


@pytest.fixture(scope="module")
def server(seed_index: Path):
    with running_server(seed_index, env={"ASSISTANT_RATE_LIMIT_PER_MINUTE": "100000"}) as url:
        yield url


def test_every_operation_fuzzed_never_fails_the_contract(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=server, timeout=60)
                sent[case.operation.label] = sent.get(case.operation.label, 0) + 1
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                         content_type_conformance, response_schema_conformance])
                if 400 <= response.status_code < 500 and "text/html" in str(response.headers.get("content-type")):
                    assert "There is no article" in response.text  # the article pages' own 404
                elif 400 <= response.status_code < 500:
                    detail = response.json().get("detail")
                    assert isinstance(detail, str) and detail.endswith(".") and len(detail) > 10, response.text

            try:
                run()
            except Unsatisfiable:
                # No invalid request exists for an operation that takes no input.
                assert mode == schemathesis.GenerationMode.NEGATIVE and operation.label in NO_INPUT
    assert {"POST /api/ask", "POST /api/feedback", "GET /api/health", "GET /api/widget", "GET /articles/{doc_id}",
            "GET /faq"} <= set(sent)
    assert sum(sent.values()) >= 1000, sent
