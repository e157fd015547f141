"""Verdicts that do not depend on load: a run with a timeout is run once more before the timeout is recorded."""

import logging
from dataclasses import replace

from grader.assignments.bundle import AssignmentBundle
from grader.logs import log_event
from grader.notebooks.cells import StudentCell
from grader.notebooks.releases import NO_EARLIER, EarlierReleases
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.services.evaluate import Evaluation, evaluate

logger = logging.getLogger(__name__)


def timed_out(evaluation: Evaluation) -> bool:
    """A timeout that load could have caused: a wall clock ran out (or the judge did not say which limit).
    A CPU-time limit does not depend on load, so a run whose only timeouts are CPU limits stands as it is."""
    return any(item.verdict.status == "timeout" and item.verdict.limit != "cpu" for item in evaluation.score.items)


def evaluate_settled(bundle: AssignmentBundle, content: bytes, filename: str, runner: SandboxRunner,
                     limits: SandboxLimits, *, max_bytes: int, cells: list[StudentCell] | None = None,
                     earlier: EarlierReleases = NO_EARLIER) -> Evaluation:
    """Evaluate; on any `timeout` item that a wall clock decided, evaluate again and keep the second run.

    A busy machine (other runs, a noisy neighbour) can push a correct solution past a wall-clock limit, and
    peers that record the first timeout give wrong verdicts under load (Judge0 #114). CPU limits already
    ignore load, so a run that only hit CPU limits is not run again (a loop costs its CPU limit once, not twice);
    the re-run covers the wall caps. A submission that really loops on a wall cap times out twice.
    """
    first = evaluate(bundle, content, filename, runner, limits, max_bytes=max_bytes, cells=cells, earlier=earlier)
    if not timed_out(first):
        return first
    log_event(logger, "evaluation_timeout_rerun", usage_wall_s=first.usage.get("wall_s"))
    second = evaluate(bundle, content, filename, runner, limits, max_bytes=max_bytes, cells=cells, earlier=earlier)
    return replace(second, usage={**second.usage, "timeout_reruns": 1, "first_wall_s": first.usage.get("wall_s")})
