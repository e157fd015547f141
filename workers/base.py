"""One task decorator: a stable dotted name, a queue, and retry classification shared by every task.

Transient infrastructure errors (the database unreachable, the sandbox unable to start) are retried with
Celery's own retry and exponential backoff; a student's failure never reaches here (it is a verdict);
an obsolete message (the run finished or is gone) is dropped; anything else is a bug and is re-raised.
"""

import logging
import random
from collections.abc import Callable
from typing import Any

import psycopg
from celery import Task
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from grader.config import get_settings
from grader.errors import NotFound, SandboxFailure
from grader.logs import log_event
from workers.app import app

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, DisconnectionError, PoolTimeout, psycopg.OperationalError, SandboxFailure,
)
GiveUp = Callable[..., None]
logger = logging.getLogger(__name__)


def backoff_s(retries: int) -> float:
    """Exponential backoff with jitter, so workers that failed together do not retry together."""
    settings = get_settings()
    ceiling = min(settings.task_retry_backoff_max_s, settings.task_retry_backoff_s * 2 ** retries)
    return ceiling * random.uniform(0.5, 1.0)


def _retry_or_give_up(task: Task, exc: BaseException, *, retry: bool, give_up: GiveUp | None,
                      args: tuple[Any, ...]) -> None:
    retries = task.request.retries
    limit = get_settings().task_max_retries if retry else 0
    if retries < limit:
        countdown = backoff_s(retries)
        log_event(logger, "task_retry", level=logging.WARNING, task=task.name, args=list(args), retries=retries,
                  countdown_s=round(countdown, 2), error=type(exc).__name__)
        raise task.retry(exc=exc, countdown=countdown, max_retries=limit)
    if not retry:
        log_event(logger, "task_dropped", level=logging.WARNING, task=task.name, args=list(args),
                  error=type(exc).__name__)
        return
    log_event(logger, "task_gave_up", level=logging.ERROR, task=task.name, args=list(args), retries=retries,
              error=type(exc).__name__)
    if give_up is not None:
        _give_up_quietly(give_up, args, f"infrastructure failure after {retries} retries: {type(exc).__name__}: {exc}")


def _give_up_quietly(give_up: GiveUp, args: tuple[Any, ...], reason: str) -> None:
    """Recording the failure must not hide the cause; if the database is down too, the sweeper comes back."""
    try:
        give_up(*args, reason=reason)
    except TRANSIENT_ERRORS as exc:
        log_event(logger, "give_up_failed", level=logging.WARNING, args=list(args), error=type(exc).__name__)


def grader_task(name: str, *, retry: bool = True,
                give_up: GiveUp | None = None) -> Callable[[Callable[..., Any]], Task]:
    """Register `body(task, *ids)` under `name` (its queue comes from task_routes), acknowledged late.

    `give_up(*ids, reason=)` records the failure after the last retry and on a bug; a task without retries
    (the sweep) just waits for the next one beat sends.
    """

    def decorate(body: Callable[..., Any]) -> Task:
        @app.task(name=name, bind=True, acks_late=True, reject_on_worker_lost=True)
        def task(self: Task, *args: Any) -> None:
            try:
                body(self, *args)
            except NotFound as exc:
                log_event(logger, "task_obsolete", task=name, args=list(args), reason=str(exc))
            except TRANSIENT_ERRORS as exc:
                _retry_or_give_up(self, exc, retry=retry, give_up=give_up, args=args)
            except Exception as exc:
                log_event(logger, "task_bug", level=logging.ERROR, task=name, args=list(args),
                          error=type(exc).__name__)
                if give_up is not None:
                    _give_up_quietly(give_up, args, f"internal error: {type(exc).__name__}: {exc}")
                raise

        return task

    return decorate
