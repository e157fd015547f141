"""Grading one submission's content: restore, run in the sandbox, judge, score. No database here."""

import secrets
from dataclasses import dataclass, field, replace

from grader.assignments.bundle import AssignmentBundle
from grader.notebooks.cells import StudentCell
from grader.notebooks.lines import cell_first_lines, with_file_lines
from grader.notebooks.reader import read_submission
from grader.notebooks.releases import NO_EARLIER, EarlierReleases
from grader.notebooks.restore import restore_locked_cells
from grader.sandbox.job import JobProbe, JobTest, SandboxJob, SandboxLimits, SandboxResult, UnitLimits
from grader.sandbox.runner import SandboxRunner
from grader.scoring.score import Score, score
from grader.scoring.verdict import Verdict
from grader.verdicts.judge import Judge
from grader.verdicts.plan import ProbePlan


@dataclass(frozen=True)
class Evaluation:
    """Everything a grading run records."""

    score: Score
    flags: list[str]
    locked_cells_modified: bool
    output: str
    result: SandboxResult
    probe_seed: int
    usage: dict[str, object] = field(default_factory=dict)


def _with_unit_limits(bundle: AssignmentBundle, probes: list[JobProbe]) -> list[JobProbe]:
    """A hidden item's limits go to its probe unit (named by the item's id), a locked item's to its shadow too (it
    re-checks the same code)."""
    own: dict[str, UnitLimits] = {}
    for item in bundle.rubric.items:
        if item.limits is not None:
            own[item.id] = item.limits
            if item.shadow:
                own[item.shadow] = item.limits
    return [replace(probe, limits=own[probe.probe_id]) if probe.probe_id in own else probe for probe in probes]


def build_job(bundle: AssignmentBundle, content: bytes, filename: str, plan: ProbePlan,
              limits: SandboxLimits, *, max_bytes: int, cells: list[StudentCell] | None = None,
              earlier: EarlierReleases = NO_EARLIER) -> tuple[SandboxJob, list[str], bool]:
    """The sandbox job for one submission, with the integrity flags its restoration raised.

    `cells` are the submission's cells as parsed at upload (grader.notebooks.stored); without them the bytes
    are parsed here. `earlier`: the locked cells of the assignment's other published versions.
    """
    if cells is None:
        cells = read_submission(content, filename, max_bytes=max_bytes)
    restored = restore_locked_cells(cells, bundle.source_cells, earlier)
    seeds = list(bundle.rubric.locked_test_seeds)
    tests = [JobTest(item_id=item.id, source=restored.tests[item.id], seeds=seeds, limits=item.limits)
             for item in bundle.rubric.items if item.kind == "locked"]
    job = SandboxJob(module_name=bundle.module_name, cells=restored.cells, tests=tests,
                     probes=_with_unit_limits(bundle, plan.job_probes()), package=bundle.package,
                     limits=limits)
    return job, restored.flags, restored.locked_cells_modified


def _located(verdicts: dict[str, Verdict], job: SandboxJob, content: bytes, filename: str) -> dict[str, Verdict]:
    """Messages name the line in the student's .py file too; a notebook's JSON lines would only mislead."""
    if filename.lower().endswith(".ipynb"):
        return verdicts
    text = content.decode("utf-8-sig", errors="replace")
    first_lines = cell_first_lines(text, [(cell.key, cell.source) for cell in job.cells])
    first_lines.update(cell_first_lines(text, [(test.item_id, test.source) for test in job.tests]))
    name = filename.rsplit("/", 1)[-1] or "the file"
    return {item_id: replace(verdict, message=with_file_lines(verdict.message, first_lines, name),
                             detail=with_file_lines(verdict.detail, first_lines, name))
            for item_id, verdict in verdicts.items()}


def evaluate(bundle: AssignmentBundle, content: bytes, filename: str, runner: SandboxRunner,
             limits: SandboxLimits, *, max_bytes: int, cells: list[StudentCell] | None = None,
             earlier: EarlierReleases = NO_EARLIER, probe_seed: int | None = None) -> Evaluation:
    """One full evaluation; the student's misbehaviour becomes verdicts, never an exception. The probes are drawn
    from a fresh seed unless `probe_seed` names one (`grader assignments check --seed` repeats a check)."""
    plan = ProbePlan.draw(bundle, secrets.randbits(32) if probe_seed is None else probe_seed)
    job, flags, modified = build_job(bundle, content, filename, plan, limits, max_bytes=max_bytes, cells=cells,
                                     earlier=earlier)
    result = runner.run(job)
    judgement = Judge(bundle, plan, limits, job.unit_limits()).judge(result)
    return Evaluation(
        score=score(bundle.rubric, _located(judgement.verdicts, job, content, filename)),
        flags=flags + judgement.flags,
        locked_cells_modified=modified,
        output=judgement.output,
        result=result,
        probe_seed=plan.seed,
        usage={"wall_s": result.wall_s, "cpu_s": max(result.cpu_s, judgement.cpu_s),
               "max_rss_mib": max(result.max_rss_mib, judgement.max_rss_mib), "killed": result.killed,
               "backend": runner.name, "probe_seed": plan.seed, "sandbox_started": result.sandbox_started},
    )
