"""Cells parsed at upload are stored with the submission and graded from, on SQLite and Postgres alike."""

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from grader.config import Settings
from grader.db import session_scope
from grader.models import GradingRun, Submission
from grader.notebooks.reader import read_submission
from grader.notebooks.stored import READER_VERSION, cells_from_store, stored_cells
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.accept import Upload, accept_submission
from grader.services.jobs import grade_in_process, in_process_context

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTION = REPO_ROOT / "grader/assignments/layers/examples/student_solution.py"
WRONG_INDEX = REPO_ROOT / "tests/data/submissions/wrong_matmul_index.py"
MAX_BYTES = 512 * 1024


def _accept(factory: sessionmaker[Session], content: bytes) -> tuple[str, str]:
    with session_scope(factory) as session:
        submission, run = accept_submission(session, Upload(content, "layers_dev.py", "s1", "layers"),
                                            max_bytes=MAX_BYTES)
        return submission.id, run.id


def _grade(factory: sessionmaker[Session], run_id: str, runner: SandboxRunner, limits: SandboxLimits) -> float:
    grade_in_process(in_process_context(Settings(), factory, runner), run_id)
    with session_scope(factory) as session:
        run = session.get(GradingRun, run_id)
        return (run.score if run else None) or 0.0


def test_the_cells_round_trip_exactly() -> None:
    cells = read_submission(SOLUTION.read_bytes(), "layers_dev.py", max_bytes=MAX_BYTES)
    assert cells_from_store(stored_cells(cells)) == cells


def test_another_reader_or_a_damaged_store_means_parse_again() -> None:
    cells = read_submission(SOLUTION.read_bytes(), "layers_dev.py", max_bytes=MAX_BYTES)
    stored = stored_cells(cells)
    assert cells_from_store({**stored, "reader": "jupytext 0.0; nbformat 0; cells 0"}) is None
    assert cells_from_store(None) is None and cells_from_store([1, 2]) is None
    assert cells_from_store({"reader": READER_VERSION, "cells": [{"index": "0"}]}) is None
    assert cells_from_store({"reader": READER_VERSION, "cells": [{**stored["cells"][0], "source": 7}]}) is None


def test_upload_stores_the_cells_and_grading_reads_them(session_factory: sessionmaker[Session],
                                                        runner: SandboxRunner, limits: SandboxLimits) -> None:
    """Proof that grading uses the stored cells: swapped for a wrong solution's, the score is the wrong one's."""
    right_id, right_run = _accept(session_factory, SOLUTION.read_bytes())
    _wrong_id, wrong_run = _accept(session_factory, WRONG_INDEX.read_bytes())
    wrong_score = _grade(session_factory, wrong_run, runner, limits)
    wrong_cells = stored_cells(read_submission(WRONG_INDEX.read_bytes(), "layers_dev.py", max_bytes=MAX_BYTES))
    with session_scope(session_factory) as session:
        stored = session.get(Submission, right_id)
        assert stored is not None and cells_from_store(stored.parsed_cells) is not None
        session.execute(update(Submission).where(Submission.id == right_id).values(parsed_cells=wrong_cells))
    assert _grade(session_factory, right_run, runner, limits) == wrong_score < 90


def test_cells_of_another_reader_are_parsed_from_the_bytes(session_factory: sessionmaker[Session],
                                                           runner: SandboxRunner, limits: SandboxLimits) -> None:
    submission_id, run_id = _accept(session_factory, SOLUTION.read_bytes())
    stale = stored_cells(read_submission(WRONG_INDEX.read_bytes(), "layers_dev.py", max_bytes=MAX_BYTES))
    with session_scope(session_factory) as session:
        session.execute(update(Submission).where(Submission.id == submission_id)
                        .values(parsed_cells={**stale, "reader": "an older reader"}))
    assert _grade(session_factory, run_id, runner, limits) == 90
