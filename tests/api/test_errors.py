"""Domain errors live in grader.errors and carry their own HTTP status, code and CLI exit code: the API's one
handler and the CLI's root group map any of them, including one they have never heard of."""

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from grader import errors
from grader.api.errors import install_error_handlers
from grader.cli_errors import AnswersDomainErrors

EXPECTED = {
    errors.Rejected("the file is empty", code="empty"): (422, "empty", 2, {}),
    errors.Rejected("over the limit", code="too_large"): (413, "too_large", 2, {}),
    errors.Rejected("binary", code="not_text"): (415, "not_text", 2, {}),
    errors.NotFound("no submission x"): (404, "not_found", 2, {}),
    errors.Conflict("batch b is already published"): (409, "conflict", 2, {}),
    errors.PassbackUnavailable("no callback_url"): (409, "conflict", 2, {}),
    errors.NotRetryable("run r is graded"): (409, "conflict", 2, {}),
    errors.Unauthenticated("unknown or revoked token"): (401, "unauthenticated", 2, {"www-authenticate": "Bearer"}),
    errors.Forbidden("another course"): (403, "forbidden", 2, {}),
    errors.RateLimited(2.2): (429, "rate_limited", 2, {"retry-after": "3"}),
    errors.SandboxFailure("bwrap cannot start"): (503, "sandbox_unavailable", 1, {}),
    errors.LaunchRejected("deployment 'd' is not registered", status_code=403): (403, "lti_launch_rejected", 2, {}),
    errors.ToolKeyUnavailable("no tool key yet"): (503, "lti_key_unavailable", 2, {}),
    errors.TokenRequestFailed("invalid_client", status_code=401, retryable=False): (502, "lti_token_refused", 1, {}),
    errors.InvalidSettings("invalid settings: GRADER_RUN_LEASE_S: not an integer"): (500, "invalid_settings", 2, {}),
    errors.BundleInvalid("not valid YAML", file="b/assignment.yaml", line=3): (422, "bundle_invalid", 2, {}),
    errors.BundleTooLarge("over 64 MiB unpacked", file="b.zip"): (413, "too_large", 2, {}),
    errors.CheckFailed("the check of b failed"): (422, "check_failed", 2, {}),
}


class Unheard(errors.Conflict):
    """An error added later: nothing but its class is written for it."""

    code = "unheard_of"


def _raising(error: errors.GraderError) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


def test_every_domain_error_class_is_covered() -> None:
    defined = {kind for kind in vars(errors).values()
               if isinstance(kind, type) and issubclass(kind, errors.GraderError) and kind is not errors.GraderError}
    assert defined == {type(error) for error in EXPECTED}


@pytest.mark.parametrize("error", [*EXPECTED, Unheard("new")], ids=lambda e: f"{type(e).__name__}-{e.code}")
def test_the_api_answers_with_the_error_s_own_status_code_and_headers(error: errors.GraderError) -> None:
    status, code, _exit, headers = EXPECTED.get(error, (409, "unheard_of", 2, {}))
    answer = _raising(error).get("/boom")
    assert (answer.status_code, answer.json()["error"], answer.json()["detail"]) == (status, code, error.detail)
    assert {key: answer.headers[key] for key in headers} == headers


@pytest.mark.parametrize("error", [*EXPECTED, Unheard("new")], ids=lambda e: f"{type(e).__name__}-{e.code}")
def test_the_cli_ends_with_the_error_s_own_exit_code(error: errors.GraderError) -> None:
    app = typer.Typer(cls=AnswersDomainErrors)

    @app.command()
    def act() -> None:
        raise error

    @app.command()
    def other() -> None:
        """A second command, so `act` is a subcommand as in the real CLI."""

    done = CliRunner().invoke(app, ["act"])
    assert done.exit_code == EXPECTED.get(error, (0, "", 2, {}))[2]
    assert done.stderr == f"error: {error.detail}\n"
