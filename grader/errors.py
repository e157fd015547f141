"""Every error the grader raises on purpose, in one place: each carries its meaning for every edge, the HTTP status
and stable code the API answers with and the exit code the CLI ends with, so adding one takes one edit here and
the API's handler and the CLI map it without knowing it."""

import math
from typing import ClassVar


class GraderError(Exception):
    """Base of every error the grader raises on purpose; one that is not more specific is an internal error."""

    http_status: ClassVar[int] = 500
    code: str = "internal_error"
    exit_code: ClassVar[int] = 1

    @property
    def detail(self) -> str:
        """The sentence shown to the caller: what is wrong, never an internal."""
        return str(self)

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer needs (a challenge, a retry time)."""
        return {}


class Rejected(GraderError):
    """The input is not a gradable submission, or a field is unusable; nothing was stored (422, or 413/415)."""

    exit_code = 2
    STATUS_BY_CODE: ClassVar[dict[str, int]] = {"too_large": 413, "not_text": 415, "unsupported_type": 415}

    def __init__(self, reason: str, *, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    @property
    def http_status(self) -> int:  # type: ignore[override]
        return self.STATUS_BY_CODE.get(self.code, 422)


class NotFound(GraderError):
    """A named thing (assignment, submission, run, batch, course, token) does not exist, or not for this caller."""

    http_status = 404
    code = "not_found"
    exit_code = 2


class Conflict(GraderError):
    """The request contradicts what is stored (an idempotency key reused for something else, a batch action its
    state refuses): 409."""

    http_status = 409
    code = "conflict"
    exit_code = 2


class PassbackUnavailable(Conflict):
    """Nothing to send: the submission has no callback_url or LTI launch, or no graded result yet (409)."""


class NotRetryable(Conflict):
    """Only a run that ended `error` is re-queued by hand; anything else is running or already graded (409)."""


class Unauthenticated(GraderError):
    """No token, or one that is unknown or revoked (401)."""

    http_status = 401
    code = "unauthenticated"
    exit_code = 2

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(GraderError):
    """A valid token acting outside its role or its course (403)."""

    http_status = 403
    code = "forbidden"
    exit_code = 2


class RateLimited(GraderError):
    """Too many submissions from one token (429); `retry_after_s` says when the next one is allowed."""

    http_status = 429
    code = "rate_limited"
    exit_code = 2

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(f"too many submissions from this token; retry in {self.retry_after_s} s")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class SandboxFailure(GraderError):
    """The sandbox itself could not run (infrastructure, not the student's fault): retried by workers (503)."""

    http_status = 503
    code = "sandbox_unavailable"


class LaunchRejected(GraderError):
    """An LTI login, launch or launch-bound upload that must not go on; the reason is the page the student sees."""

    code = "lti_launch_rejected"
    exit_code = 2

    def __init__(self, reason: str, *, status_code: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code

    @property
    def http_status(self) -> int:  # type: ignore[override]
        return self.status_code


class ToolKeyUnavailable(GraderError):
    """No LTI tool key can be read: none generated yet, or the key that encrypts them changed (503)."""

    http_status = 503
    code = "lti_key_unavailable"
    exit_code = 2


class TokenRequestFailed(GraderError):
    """A platform's token endpoint issued no AGS token; says whether the outbox should try again, and when."""

    http_status = 502
    code = "lti_token_refused"

    def __init__(self, message: str, *, status_code: int | None, retryable: bool,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class InvalidSettings(GraderError):
    """A GRADER_* environment variable has a value the grader cannot start with; the message names it (exit 2)."""

    code = "invalid_settings"
    exit_code = 2


class BundleInvalid(GraderError):
    """An assignment bundle that does not load; the message names the file and, where there is one, the line (422).

    Instructor input, checked before anything uses it: nothing of a bundle that raised this is kept.
    """

    http_status = 422
    code = "bundle_invalid"
    exit_code = 2

    def __init__(self, problem: str, *, file: str, line: int | None = None) -> None:
        self.problem = problem
        self.file = file
        self.line = line
        where = file if line is None else f"{file}, line {line}"
        super().__init__(f"{where}: {problem}")


class BundleTooLarge(BundleInvalid):
    """A bundle archive past the size caps, or one that unpacks far larger than it is (a zip bomb): 413."""

    http_status = 413
    code = "too_large"


class CheckFailed(GraderError):
    """An assignment whose `check` failed was not published (publish again with force to override): 422."""

    http_status = 422
    code = "check_failed"
    exit_code = 2

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report
