"""From an untrusted report to trusted verdicts: statuses re-derived, hidden outputs compared outside."""

import json
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import ValidationError

from grader.assignments.bundle import AssignmentBundle
from grader.sandbox.job import SandboxLimits, SandboxResult
from grader.scoring.rubric import RubricItem
from grader.scoring.verdict import Status, Verdict
from grader.verdicts.plan import ProbePlan
from grader.verdicts.wire import SandboxReport, UnitRecord

SAFE_REPORT_ERROR = "the grader could not read the result of this run; staff have the details"


@dataclass
class Judgement:
    """Verdicts per item, integrity flags the judge raised, and the captured output."""

    verdicts: dict[str, Verdict]
    flags: list[str] = field(default_factory=list)
    output: str = ""
    cell_errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    max_rss_mib: float = 0.0


def parse_report(raw: bytes) -> SandboxReport:
    """Strict JSON into a strict model; anything else raises ValueError."""
    try:
        return SandboxReport.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise ValueError(f"malformed sandbox report: {str(exc)[:500]}") from exc


def _run_level(status: Status, message: str, detail: str, items: tuple[RubricItem, ...]) -> Judgement:
    limit: Literal["", "wall"] = "wall" if status == "timeout" else ""
    return Judgement({item.id: Verdict(item.id, status, message, detail, limit) for item in items})


def _ended_without_result(record: UnitRecord | None, report: SandboxReport, limits: SandboxLimits) -> Verdict:
    """Status of a unit that never reported, from how its process ended."""
    end = record.unit_end if record else None
    if end is None:
        if report.ended == "timeout":
            return Verdict("", "timeout", f"the whole run went past its {limits.wall_s:.0f} s limit", limit="wall")
        return Verdict("", "error", "the run ended before this item could run")
    if end.ended == "wall":
        return Verdict("", "timeout", f"this test took longer than {limits.per_test_wall_s:.0f} s (wall clock)",
                       limit="wall")
    if end.ended == "signal" and (end.signal == signal.SIGXCPU or end.cpu_s >= limits.per_test_cpu_s - 0.5):
        return Verdict("", "timeout", f"this test used more than {limits.per_test_cpu_s:.0f} s of CPU time",
                       limit="cpu")
    if end.ended == "signal":
        return Verdict("", "error", f"the test process was killed by signal {end.signal}")
    return Verdict("", "error", f"the test process exited (code {end.code}) before reporting a result: "
                                "does your code call sys.exit() or os._exit()?")


def _setup_failure(report: SandboxReport, limits: SandboxLimits) -> Verdict | None:
    """When the notebook never finished importing, every unit that did not run shares one explanation."""
    if report.setup.status == "ok":
        return None
    cell = report.setup.cell or "the first cell"
    if report.ended == "timeout":
        return Verdict("", "timeout", f"your notebook did not finish running (stuck in {cell}) within "
                                      f"{limits.wall_s:.0f} s", limit="wall")
    cpu_killed = report.exit == f"signal {signal.SIGKILL}" and report.usage.cpu_s >= limits.cpu_s - 0.5
    if report.exit == f"signal {signal.SIGXCPU}" or cpu_killed:
        return Verdict("", "timeout", f"your notebook used more than {limits.cpu_s:.0f} s of CPU in {cell}",
                       limit="cpu")
    return Verdict("", "error", f"your notebook stopped the grader while running {cell} ({report.exit}): "
                                "does it call os._exit() or crash the interpreter?")


class Judge:
    """Judges one run of one submission against the bundle's rubric and this run's probe plan."""

    def __init__(self, bundle: AssignmentBundle, plan: ProbePlan, limits: SandboxLimits,
                 unit_limits: Mapping[str, SandboxLimits] | None = None) -> None:
        self.bundle = bundle
        self.plan = plan
        self.limits = limits
        self.unit_limits = unit_limits or {}  # a unit's own limits (SandboxJob.unit_limits) name its timeouts

    def judge(self, result: SandboxResult) -> Judgement:
        items = self.bundle.rubric.items
        if result.report is None and result.killed == "timeout":
            return _run_level("timeout", f"the run went past its {self.limits.wall_s:.0f} s limit", "", items)
        if result.report is None and result.killed == "output":
            return _run_level("error", "the run's report was too large", "report over the size cap", items)
        try:
            report = parse_report(result.report or b"")
        except ValueError as exc:
            return _run_level("error", SAFE_REPORT_ERROR, f"{exc}; sandbox said: {result.diagnostics[-500:]}",
                              items)
        judgement = Judgement({}, output=_output(report), cpu_s=report.usage.cpu_s,
                              max_rss_mib=report.usage.max_rss_mib)
        judgement.cell_errors = [f"cell {c.key} raised {c.error.describe()}" for c in report.cells if c.error]
        if report.channel_corrupt:
            judgement.flags.append("harness_channel_corrupted")
        setup_failure = _setup_failure(report, self.limits)
        for item in items:
            verdict = self._item(item, report, setup_failure)
            judgement.verdicts[item.id] = _with_notes(verdict, judgement.cell_errors)
            if verdict.detail.startswith("untrusted:"):
                judgement.flags.append(f"locked_test_untrusted:{item.id}")
        return judgement

    def _unit_verdict(self, unit_id: str, report: SandboxReport, setup_failure: Verdict | None) -> tuple[
            Verdict, UnitRecord | None]:
        record = report.units.get(unit_id)
        if record is None or record.unit_result is None:
            if setup_failure is not None and (record is None or record.unit_end is None):
                return setup_failure, record
            return _ended_without_result(record, report, self.unit_limits.get(unit_id, self.limits)), record
        return Verdict("", "passed"), record

    def _item(self, item: RubricItem, report: SandboxReport, setup_failure: Verdict | None) -> Verdict:
        verdict, record = self._unit_verdict(item.id, report, setup_failure)
        if record is None or record.unit_result is None:
            return replace(verdict, item_id=item.id, detail=verdict.message)
        if item.kind == "hidden":
            problem = self.plan.check(item.id, record.unit_result.outcome)
            if problem is None:
                return Verdict(item.id, "passed")
            return Verdict(item.id, problem[0], problem[1], problem[1])
        return self._locked(item, record, report, setup_failure)

    def _locked(self, item: RubricItem, record: UnitRecord, report: SandboxReport,
                setup_failure: Verdict | None) -> Verdict:
        """A locked test's own pass stands only if trusted checks of the same behaviour agree."""
        assert record.unit_result is not None
        outcome = record.unit_result.outcome
        if outcome.status != "passed":
            status: Status = outcome.status if outcome.status in ("failed", "error", "memory") else "error"
            message = outcome.error.describe() if outcome.error else status
            return Verdict(item.id, status, message, message)
        message = "" if outcome.attempts <= 1 else (
            f"passed on seed attempt {outcome.attempts}: this test is randomized and a correct solution can "
            "fail it by chance, so it runs again under the next fixed seed")
        if item.shadow is None:
            return Verdict(item.id, "passed", message)
        shadow, shadow_record = self._unit_verdict(item.shadow, report, setup_failure)
        if shadow_record is None or shadow_record.unit_result is None:
            return replace(shadow, item_id=item.id, detail=f"untrusted: shadow {shadow.message}")
        problem = self.plan.check(item.shadow, shadow_record.unit_result.outcome)
        if problem is None:
            return Verdict(item.id, "passed", message)
        return Verdict(item.id, "failed", f"checked outside your notebook: {problem[1]}",
                       f"untrusted: the locked test reported a pass, trusted checks disagree: {problem[1]}")


def _with_notes(verdict: Verdict, cell_errors: list[str]) -> Verdict:
    """A failing item also names the cells that raised at import: often the real cause."""
    if verdict.status == "passed" or not cell_errors:
        return verdict
    note = " Note: " + "; ".join(cell_errors[:3])
    return replace(verdict, message=(verdict.message + note).strip(), detail=verdict.detail + note)


def _output(report: SandboxReport) -> str:
    parts = [report.stdout]
    if report.stderr:
        parts.append("--- stderr ---\n" + report.stderr)
    return "\n".join(parts)
