"""`grader assignments check`: a bundle graded in the real sandbox before any student sees it.

The instructor's solution (the source, solutions in) is graded `full_runs` times under fresh probe seeds, and
must earn full marks every time. Each locked test alone runs once under each of `runs` distinct seeds (one sweep
unit per test, no retry): a test that fails a correct solution under some seeds is flaky, named with its rate and
a failing seed. The student release is graded once: an item it passes tests nothing.
"""

import secrets
import time
from pathlib import Path

import numpy as np

from grader.assignments.bundle import AssignmentBundle
from grader.assignments.check_report import CheckItem, CheckReport, Sweep
from grader.assignments.release import clear_solutions
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner
from grader.scoring.score import Score
from grader.services.check_sweep import seed_budgets, sweep_locked_tests
from grader.services.evaluate import Evaluation, evaluate

__all__ = ["DEFAULT_FULL_RUNS", "DEFAULT_RUNS", "FIXED_SEEDS", "CheckItem", "CheckReport", "check_bundle",
           "sweep_seeds"]

DEFAULT_RUNS = 3000
DEFAULT_FULL_RUNS = 3
FIXED_SEEDS = 1500  # seeds 0 .. FIXED_SEEDS-1 are swept on every check; the rest of `runs` are fresh
MAX_SOURCE_BYTES = 16 * 1024 * 1024


def sweep_seeds(runs: int, rng: np.random.Generator) -> list[int]:
    """`runs` distinct seeds: the fixed sequence 0, 1, 2, ... (up to FIXED_SEEDS of them, so a flaky test the
    fixed seeds expose is named by every check), then fresh ones from `rng` above it."""
    fixed = list(range(min(runs, FIXED_SEEDS)))
    fresh = runs - len(fixed)
    if fresh <= 0:
        return fixed
    drawn = rng.choice(2**32 - FIXED_SEEDS, size=fresh, replace=False) + FIXED_SEEDS
    return fixed + [int(seed) for seed in drawn]


def _graded(bundle: AssignmentBundle, text: str, runner: SandboxRunner, limits: SandboxLimits,
            probe_seed: int) -> Evaluation:
    """One graded run of `text` as a submission, as a worker grades one."""
    filename = Path(bundle.submission_filename).stem + ".py"
    return evaluate(bundle, text.encode("utf-8"), filename, runner, limits, max_bytes=MAX_SOURCE_BYTES,
                    probe_seed=probe_seed)


def check_bundle(bundle: AssignmentBundle, *, runner: SandboxRunner, runs: int = DEFAULT_RUNS,
                 full_runs: int = DEFAULT_FULL_RUNS, seed: int | None = None,
                 limits: SandboxLimits | None = None) -> CheckReport:
    """Check a bundle in the sandbox `runner` runs; a solution that loses points is a failed report, not an error.

    `seed` makes the whole check repeatable (the probe seeds and the fresh sweep seeds derive from it); None draws
    a fresh one, recorded in the report.
    """
    if runs < 1 or full_runs < 1:
        raise ValueError("a check needs at least one run of each kind")
    started = time.monotonic()
    limits = limits or SandboxLimits()
    seed = secrets.randbits(32) if seed is None else seed
    rng = np.random.default_rng(seed)
    graded = [_graded(bundle, bundle.source_text, runner, limits, int(rng.integers(2**32)))
              for _ in range(full_runs)]
    release = _graded(bundle, clear_solutions(bundle.source_text), runner, limits, int(rng.integers(2**32))).score
    budgets = seed_budgets(bundle, [evaluation.result for evaluation in graded])
    sweeps = sweep_locked_tests(bundle, runner, limits, sweep_seeds(runs, rng), budgets)
    solution = [evaluation.score for evaluation in graded]
    items = [_item(index, solution, release, sweeps.get(scored.item.id))
             for index, scored in enumerate(solution[0].items)]
    return CheckReport(assignment=bundle.name, title=bundle.title, rubric_version=bundle.rubric.version,
                       runs=runs, full_runs=full_runs, seed=seed, fixed_seeds=min(runs, FIXED_SEEDS),
                       max_score=solution[0].max_total, solution_scores=[score.total for score in solution],
                       release_score=release.total, items=items, cost_s=round(time.monotonic() - started, 2))


def _item(index: int, solution: list[Score], release: Score, sweep: Sweep | None) -> CheckItem:
    """One rubric item's row: how often the solution passed it, how its locked test swept, whether the release
    passes it."""
    lines = [score.items[index] for score in solution]
    item = lines[0].item
    failing = next((line.verdict for line in lines if line.verdict.status != "passed"), None)
    row = CheckItem(id=item.id, name=item.name, kind=item.kind, points=item.points,
                    solution_passes=sum(line.verdict.status == "passed" for line in lines), solution_runs=len(lines),
                    solution_message=(failing.detail or failing.message)[:2000] if failing else "",
                    release_passes=release.items[index].verdict.status == "passed")
    return row if sweep is None else row.model_copy(update={"sweep": sweep})
