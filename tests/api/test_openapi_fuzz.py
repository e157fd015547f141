"""Fuzz the API from its own OpenAPI document (schemathesis, in-process ASGI): no 5xx, no off-schema answer."""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.schemas import APIOperation
from sqlalchemy import select

from grader.api.app import create_app
from grader.config import Settings
from grader.db import session_scope
from grader.models import Submission
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from tests.api.conftest import ApiWorld, build_world, grade_now, redis_url, submit

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
MAX_EXAMPLES = 25
# The operations, read from the document itself (an app that is never called needs no database).
_DOCUMENT = create_app(Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
                                broker_url=redis_url(0))).openapi()


def _variants(path: str, operation: dict[str, Any]) -> list[str]:
    """Negative data only where there is input to break; real ids only where the path takes one."""
    variants = ["positive"]
    if operation.get("parameters") or operation.get("requestBody"):
        variants.append("negative")
    if "{" in path:
        variants.append("known-ids")
    return variants


CASES = [(method.upper(), path, variant) for path, methods in _DOCUMENT["paths"].items()
         for method, operation in methods.items() for variant in _variants(path, operation)]


@pytest.fixture(scope="module")
def fuzz_world(api_database: str, runner: SandboxRunner, limits: SandboxLimits) -> Iterator[ApiWorld]:
    """A course with one graded submission (with a callback) and one still queued, so reads shape real rows."""
    world = build_world(api_database)
    with world.client:
        submit(world.client, world.tokens["lms"], callback_url="http://127.0.0.1:9/cb")
        grade_now(world.factory, world.dispatcher.messages[0].run_id, runner, limits)
        submit(world.client, world.tokens["lms"])
        yield world


def _strategy(world: ApiWorld, operation: APIOperation, variant: str) -> st.SearchStrategy[Case]:
    """Generated requests; `known-ids` fills path parameters with real ids, to reach the code behind a found row."""
    mode = GenerationMode.NEGATIVE if variant == "negative" else GenerationMode.POSITIVE
    if variant != "known-ids":
        return operation.as_strategy(mode)
    with session_scope(world.factory) as session:
        submission_ids = list(session.scalars(select(Submission.id).where(Submission.course == world.course)))

    def with_ids(submission_id: str) -> st.SearchStrategy[Case]:
        ids = {"assignment_id": "layers", "submission_id": submission_id}
        return operation.as_strategy(mode, path_parameters={k: v for k, v in ids.items() if f"{{{k}}}" in
                                                            operation.path})

    return st.sampled_from(submission_ids).flatmap(with_ids)


@pytest.mark.parametrize(("method", "path", "variant"), CASES, ids=[f"{m} {p} {v}" for m, p, v in CASES])
def test_every_generated_request_is_answered_within_the_schema(fuzz_world: ApiWorld, method: str, path: str,
                                                               variant: str) -> None:
    """LMS tokens post submissions; every other operation is called as an instructor, to reach deep paths."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.app)[path][method]
    who = "lms" if (method, path) == ("POST", "/api/v1/submissions") else "instructor"

    @given(case=_strategy(fuzz_world, operation, variant))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def call(case: Case) -> None:
        case.call_and_validate(headers=fuzz_world.headers(who), checks=CHECKS)

    call()
