"""`grader grade FILE`: one file graded by a process that exits after it."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.config import Settings


def grade_file_once(settings: "Settings", *, content: bytes, filename: str, student: str,
                    assignment: str) -> dict[str, Any]:
    """`grade_file_embedded` with the sandbox started first: it gets ready while this process imports the ORM,
    the notebook reader and the judge (this module imports none of them before the sandbox is on its way)."""
    from grader.sandbox.ahead import one_shot_runner

    runner = one_shot_runner(settings)
    from grader.runtime_context import grade_file_embedded

    return grade_file_embedded(settings, content=content, filename=filename, student=student, assignment=assignment,
                               runner=runner)
