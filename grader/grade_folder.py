"""Grading a folder of submissions, as an instructor does with an LMS download: one result per file.

The files share one sandbox start (the configured pool, warm by default), and one file that is rejected or
fails stops none of the others: it gets its own row with the reason.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.config import Settings
from grader.errors import NotFound, Rejected
from grader.runtime_context import accept_and_grade, ensure_embedded_schema, runner_for
from grader.sandbox.runner import SandboxRunner
from grader.services.accept import Upload
from grader.services.results import rejected_document

SUBMISSION_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class FileResult:
    """One file of the folder and its result document (graded, rejected or error)."""

    path: Path
    student: str
    document: dict[str, Any]


def submission_files(folder: Path) -> list[Path]:
    """The folder's own *.py and *.ipynb files (not its subfolders, not hidden files), by name."""
    return sorted(path for path in folder.iterdir()
                  if path.suffix.lower() in SUBMISSION_SUFFIXES and not path.name.startswith(".") and path.is_file())


def student_of(path: Path) -> str:
    """An LMS download names each file after its student, so the file's stem is the student id."""
    return path.stem


def _failed(assignment: str, reason: str, code: str, status: str) -> dict[str, Any]:
    return {**rejected_document(assignment, reason, code), "status": status}


def grade_one(settings: Settings, path: Path, *, assignment: str, runner: SandboxRunner) -> dict[str, Any]:
    """The result document of one file; every failure is a document too, never an exception."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        return _failed(assignment, f"cannot read {path.name}: {exc.strerror}", "unreadable", "rejected")
    try:
        return accept_and_grade(settings, Upload(content, path.name, student_of(path), assignment), runner)
    except Rejected as exc:
        return _failed(assignment, exc.reason, exc.code, "rejected")
    except NotFound as exc:
        return _failed(assignment, str(exc), "unknown_assignment", "rejected")
    except Exception as exc:  # one file's internal failure is its own row, and the folder goes on
        return _failed(assignment, f"internal error: {type(exc).__name__}: {exc}", "internal", "error")


def grade_folder(settings: Settings, files: list[Path], *, assignment: str) -> Iterator[FileResult]:
    """Grade each file in turn on one runner, yielding its result as soon as it is stored."""
    ensure_embedded_schema(settings)
    runner = runner_for(settings)
    for path in files:
        yield FileResult(path=path, student=student_of(path),
                         document=grade_one(settings, path, assignment=assignment, runner=runner))
