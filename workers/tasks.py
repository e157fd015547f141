"""Thin tasks: ids in, one domain call, nothing else; names are stable because messages outlive deployments."""

from celery import Task

from grader.services import check_jobs, jobs
from workers.app import CHECK_TASK, GRADE_TASK, PASSBACK_TASK, SWEEP_TASK
from workers.base import grader_task
from workers.context import job_context


def _give_up_run(run_id: str, *, reason: str) -> None:
    jobs.give_up_run(job_context(), run_id, reason)


def _give_up_check(version_id: str, *, reason: str) -> None:
    check_jobs.give_up_check(job_context(), version_id, reason)


@grader_task(GRADE_TASK, give_up=_give_up_run)
def grade_task(task: Task, run_id: str) -> None:
    """The message id is the claim token, so this message's own retries may resume its claim."""
    jobs.grade_queued_run(job_context(), run_id, worker=task.request.hostname or "unknown", token=task.request.id)


@grader_task(CHECK_TASK, give_up=_give_up_check)
def check_version_task(task: Task, version_id: str) -> None:
    """A version still `checking` is checked and settled; any other is left alone, so a repeat changes nothing."""
    check_jobs.check_queued_version(job_context(), version_id)


@grader_task(PASSBACK_TASK)
def passback_task(task: Task, run_id: str) -> None:
    jobs.passback(job_context(), run_id)


@grader_task(SWEEP_TASK, retry=False)
def sweep_task(task: Task) -> None:
    jobs.sweep(job_context())
