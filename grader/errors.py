"""Domain errors that carry their meaning, so each edge can map them to an exit code or status."""


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""


class Rejected(GraderError):
    """The input is not a gradable submission; nothing was stored."""

    def __init__(self, reason: str, *, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class NotFound(GraderError):
    """A named thing (assignment, submission, run) does not exist."""


class SandboxFailure(GraderError):
    """The sandbox itself could not run (infrastructure, not the student's fault): retryable."""


class InvalidSettings(GraderError):
    """A GRADER_* environment variable has a value the grader cannot start with; the message names it."""
