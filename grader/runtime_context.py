"""Wiring for one process: engine, sessions and sandbox built from settings, on demand, never on import."""

import atexit
from functools import cache
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from grader.config import Settings
from grader.db import make_engine, make_session_factory, session_scope
from grader.migrate import create_at_head, is_current, upgrade
from grader.sandbox.runner import SandboxRunner, make_runner
from grader.services.accept import Upload, accept_submission
from grader.services.grade import load_run
from grader.services.jobs import grade_in_process, in_process_context
from grader.services.results import result_document


@cache
def engine_for(url: str) -> Engine:
    """The process's engine for `url`; its connections are closed at exit, not left to the interpreter's teardown
    (SQLite checkpoints its log when the last one closes)."""
    engine = make_engine(url)
    atexit.register(engine.dispose)
    return engine


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(engine_for(settings.effective_database_url))


_RUNNERS: dict[str, SandboxRunner] = {}


def runner_for(settings: Settings) -> SandboxRunner:
    """One runner per sandbox configuration per process: staging the runtime is done once."""
    key = settings.sandbox.model_dump_json()
    if key not in _RUNNERS:
        _RUNNERS[key] = make_runner(settings)
    return _RUNNERS[key]


def ensure_embedded_schema(settings: Settings) -> None:
    """The embedded SQLite default migrates itself (a new one is created at head at once); a server database is
    migrated by `grader db upgrade`."""
    if not settings.database_url:
        settings.home.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings.effective_database_url)
    if is_current(engine) or (not settings.database_url and create_at_head(engine)):
        return
    upgrade(engine)


def grade_file_embedded(settings: Settings, *, content: bytes, filename: str, student: str,
                        assignment: str, runner: SandboxRunner | None = None) -> dict[str, Any]:
    """Accept (one transaction), grade in-process the way a worker does (claim, evaluate, record), and return the
    result contract; a run that could not be graded is stored `error` with its cause, then the cause is raised.

    `runner` defaults to the configured pool; a single file from the CLI brings one started ahead
    (grader.grade_once).
    """
    ensure_embedded_schema(settings)
    return accept_and_grade(settings, Upload(content, filename, student, assignment), runner or runner_for(settings))


def accept_and_grade(settings: Settings, upload: Upload, runner: SandboxRunner) -> dict[str, Any]:
    """The transactions of an embedded grade, on a database whose schema is already current."""
    factory = session_factory(settings)
    max_bytes = settings.max_upload_kib * 1024
    with session_scope(factory) as session:
        _submission, run = accept_submission(session, upload, max_bytes=max_bytes)
        run_id = run.id
    grade_in_process(in_process_context(settings, factory, runner), run_id)
    with session_scope(factory) as session:
        run = load_run(session, run_id)
        return result_document(run.submission, run)
