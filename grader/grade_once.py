"""`grader grade FILE`: one file graded by a process that exits after it."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.config import Settings
    from grader.sandbox.job import SandboxJob, SandboxResult
    from grader.sandbox.package import PackageSpec
    from grader.sandbox.runner import SandboxRunner


class _Announcing:
    """The runner, telling the command when the stored run's job goes into the sandbox (its progress clock)."""

    def __init__(self, runner: "SandboxRunner", on_job: Callable[[], None]) -> None:
        self._runner = runner
        self._on_job = on_job
        self.name = runner.name
        self.pool = runner.pool

    def run(self, job: "SandboxJob") -> "SandboxResult":
        self._on_job()
        return self._runner.run(job)


def _package(assignment: str) -> "PackageSpec":
    """The package of the assignment the file is graded against, found on the sandbox's own thread."""
    from grader.assignments.registry import find_package

    return find_package(assignment)


def grade_file_once(settings: "Settings", *, content: bytes, filename: str, student: str,
                    assignment: str, on_job: Callable[[], None] | None = None) -> dict[str, Any]:
    """`grade_file_embedded` with the sandbox started first: it gets ready while this process imports the ORM,
    the notebook reader and the judge (this module imports none of them before the sandbox is on its way)."""
    from grader.sandbox.ahead import one_shot_runner

    runner: SandboxRunner = one_shot_runner(settings, lambda: _package(assignment))
    if on_job is not None:
        runner = _Announcing(runner, on_job)
    from grader.imports import without_collection

    with without_collection():
        from grader.runtime_context import grade_file_embedded
    return grade_file_embedded(settings, content=content, filename=filename, student=student, assignment=assignment,
                               runner=runner)
