"""The units of work a worker runs for one message: each composes claim, evaluation and storage, so the
Celery task stays a one-line call and the same code can be driven by tests without a broker."""

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from grader.config import Settings
from grader.db import session_scope
from grader.errors import GraderError, NotFound
from grader.models.base import new_id
from grader.sandbox.runner import SandboxRunner, limits_from_settings
from grader.services.bundles import bundle_for
from grader.services.claim import claim_run, fail_run, log_graded, record_claimed
from grader.services.earlier_releases import earlier_releases
from grader.services.outbox import has_pending_passback
from grader.services.passback import PassbackDelivery, pass_back_current_result
from grader.services.queueing import Dispatch, Dispatcher, dispatching_scope, request_passback
from grader.services.settle import evaluate_settled
from grader.services.sweep import SweepReport, sweep_stale_runs


@dataclass(frozen=True)
class JobContext:
    """What one worker process shares between messages: settings, the session factory, the sandbox, the sender.

    Sessions are never shared: every unit of work opens its own from the factory.
    """

    settings: Settings
    factory: sessionmaker[Session]
    runner: Callable[[], SandboxRunner]
    dispatch: Dispatcher


def grade_queued_run(context: JobContext, run_id: str, *, worker: str, token: str) -> bool:
    """Claim (one transaction), evaluate outside any transaction, store (another); True if this call stored it.

    A run that is finished, held by a live worker, or out of attempts is left alone (the claim says why).
    """
    settings = context.settings
    with session_scope(context.factory) as session:
        claim = claim_run(session, run_id, worker=worker, token=token, lease_s=settings.run_lease_s,
                          max_attempts=settings.run_max_attempts)
    if claim is None:
        return False
    try:
        with session_scope(context.factory) as session:
            bundle = bundle_for(session, course=claim.course, assignment=claim.assignment,
                                rubric_version=claim.rubric_version)
            earlier = earlier_releases(session, course=claim.course, assignment=claim.assignment)
    except NotFound as exc:
        raise GraderError(f"this worker cannot find the assignment {claim.assignment!r}: {exc}") from exc
    evaluation = evaluate_settled(bundle, claim.content, claim.filename, context.runner(),
                                  limits_from_settings(settings), max_bytes=settings.max_upload_kib * 1024,
                                  cells=claim.cells, earlier=earlier)
    with dispatching_scope(context.factory, context.dispatch) as session:
        run = record_claimed(session, claim, evaluation, rubric_version=bundle.rubric.version)
        if run is not None and has_pending_passback(session, run.id):
            request_passback(session, run)
    if run is None:
        return False
    log_graded(run)
    return True


def relay_later(messages: Sequence[Dispatch]) -> None:
    """In-process grading has no broker: a result's outbox rows stay pending and the passback relay sends them."""


def in_process_context(settings: Settings, factory: sessionmaker[Session], runner: SandboxRunner) -> JobContext:
    """The worker's context for grading inside this process (`grader grade`, tests): no broker, one runner."""
    return JobContext(settings=settings, factory=factory, runner=lambda: runner, dispatch=relay_later)


def grade_in_process(context: JobContext, run_id: str, *, worker: str | None = None) -> bool:
    """The worker's path (claim under a lease, evaluate outside any transaction, record) without a broker.

    No Celery retry follows here, so whatever stops the evaluation (a sandbox that cannot start, a bug, Ctrl-C)
    ends the run `error` with its cause before it is raised: a run is never left queued or running without a result.
    """
    try:
        return grade_queued_run(context, run_id, worker=worker or socket.gethostname(), token=new_id())
    except BaseException as exc:
        give_up_run(context, run_id, f"{type(exc).__name__}: {exc}")
        raise


def give_up_run(context: JobContext, run_id: str, reason: str) -> bool:
    """After the last retry, or on a bug: the run ends `error` with the cause, visible and retryable by hand."""
    with session_scope(context.factory) as session:
        return fail_run(session, run_id, reason)


def sweep(context: JobContext) -> SweepReport:
    """One pass of the sweeper; the re-sends leave after its commit."""
    with dispatching_scope(context.factory, context.dispatch) as session:
        return sweep_stale_runs(session, lease_s=context.settings.run_lease_s,
                                check_lease_s=context.settings.check_lease_s)


def passback(context: JobContext, run_id: str) -> PassbackDelivery:
    with session_scope(context.factory) as session:
        return pass_back_current_result(session, run_id)
