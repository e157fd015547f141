"""Shared by the assignment-version tests: a check report double (the check itself is the check engineer's,
tested in tests/assignments), counting rows, and the small scaling bundle written into a folder."""

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.registry import ASSIGNMENTS_DIR
from grader.db import session_scope
from grader.models import AssignmentVersion, BundleArchive
from grader.services.courses import create_course
from tests.assignments.authoring import MANIFEST, write_bundle


@dataclass
class Report:
    """What settling reads of a CheckReport: passed, and its JSON."""

    passed: bool
    solution_scores: list[float] = field(default_factory=lambda: [10.0])
    max_score: float = 10.0
    flaky: list[str] = field(default_factory=list)
    tests_nothing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "solution_scores": self.solution_scores, "max_score": self.max_score,
                "flaky": self.flaky, "tests_nothing": self.tests_nothing}


@dataclass
class Checker:
    """A check that answers `passed` and remembers the bundles it was given."""

    passed: bool = True
    seen: list[AssignmentBundle] = field(default_factory=list)

    def __call__(self, bundle: AssignmentBundle, *, runner: object, limits: object = None) -> Report:
        self.seen.append(bundle)
        return Report(passed=self.passed, solution_scores=[10.0] if self.passed else [10.0, 4.0],
                      flaky=[] if self.passed else ["test-shift"])


def scaling(folder: Path, *, title: str = "Scaling tensors") -> Path:
    """The small scaling bundle (two locked tests, 10 points) with the given title (a new rubric version)."""
    return write_bundle(folder, manifest=MANIFEST.replace('"Scaling tensors"', f'"{title}"'))


def shipped_copy(name: str, folder: Path, *, title: str | None = None) -> Path:
    """A shipped bundle copied out (so a test can publish it as an instructor's upload)."""
    shutil.copytree(ASSIGNMENTS_DIR / name, folder, ignore=shutil.ignore_patterns("__pycache__"))
    if title is not None:
        manifest = folder / "assignment.yaml"
        lines = [f'title: "{title}"' if line.startswith("title:") else line
                 for line in manifest.read_text().splitlines()]
        manifest.write_text("\n".join(lines) + "\n")
    return folder


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    """(archives, versions) stored."""
    with session_scope(factory) as session:
        return (session.scalar(select(func.count()).select_from(BundleArchive)) or 0,
                session.scalar(select(func.count()).select_from(AssignmentVersion)) or 0)


def make_course(factory: sessionmaker[Session], course: str = "c1") -> str:
    with session_scope(factory) as session:
        create_course(session, course)
    return course
