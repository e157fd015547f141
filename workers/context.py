"""Per-process wiring for workers: built on first use in each pool process, so nothing crosses a fork."""

from functools import cache

from grader.config import get_settings
from grader.runtime_context import runner_for, session_factory
from grader.sandbox.runner import SandboxRunner
from grader.services.jobs import JobContext
from workers.app import app
from workers.dispatch import celery_dispatcher


@cache
def job_context() -> JobContext:
    settings = get_settings()

    def runner() -> SandboxRunner:
        return runner_for(settings)

    return JobContext(settings=settings, factory=session_factory(settings), runner=runner,
                      dispatch=celery_dispatcher(app))
