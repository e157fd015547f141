"""The probes of one run: drawn fresh, sent to the sandbox as data, judged here against the reference."""

from dataclasses import dataclass

import numpy as np

from grader.assignments.bundle import AssignmentBundle
from grader.sandbox.job import JobProbe
from grader.scoring.verdict import Status
from grader.verdicts.wire import UnitOutcome


@dataclass
class ProbePlan:
    """Probe calls per unit id (hidden items and shadows), with the checker for each."""

    bundle: AssignmentBundle
    calls: dict[str, list]  # type: ignore[type-arg]
    seed: int

    @classmethod
    def draw(cls, bundle: AssignmentBundle, seed: int) -> "ProbePlan":
        """Fresh inputs for every probe, from one recorded seed; shadows replay the locked tests' own seeds."""
        rng = np.random.default_rng(seed)
        units = {item.id: item.probe or item.id for item in bundle.rubric.items if item.kind == "hidden"}
        units.update({item.shadow: item.shadow for item in bundle.rubric.items if item.shadow})
        seeds = tuple(bundle.rubric.locked_test_seeds)
        return cls(bundle=bundle, calls={unit: bundle.probes[probe].generate(rng, seeds)
                                         for unit, probe in units.items()}, seed=seed)

    def job_probes(self) -> list[JobProbe]:
        """The probes as the harness runs them; a shadow only when its locked test passed (see Judge._locked)."""
        tested = {item.shadow: item.id for item in self.bundle.rubric.items if item.shadow}
        return [JobProbe(probe_id=unit, calls=[call.wire for call in calls], only_if_passed=tested.get(unit))
                for unit, calls in self.calls.items()]

    def check(self, unit: str, outcome: UnitOutcome) -> tuple[Status, str] | None:
        """None when the outputs match the reference; otherwise a status and what differed."""
        calls = self.calls[unit]
        if outcome.status != "ok" or len(outcome.results) != len(calls):
            if outcome.status == "memory":
                return "memory", "ran out of memory"
            return "error", "the probe did not return one result per call"
        for result in outcome.results:
            if not result.ok and result.error is not None and result.error.type == "MemoryError":
                return "memory", "ran out of memory"
        probes = {item.id: item.probe for item in self.bundle.rubric.items if item.probe}
        definition = self.bundle.probes[probes.get(unit, unit)]
        problem = definition.check(calls, outcome.results)
        if problem is None:
            return None
        raised = not definition.expects_errors and any(not result.ok for result in outcome.results)
        return ("error" if raised else "failed"), problem
