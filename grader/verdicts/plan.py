"""The probes of one run: drawn fresh, sent to the sandbox as data, judged here against the reference."""

from dataclasses import dataclass

import numpy as np

from grader.assignments.bundle import AssignmentBundle
from grader.sandbox.job import JobProbe
from grader.scoring.verdict import Status
from grader.verdicts.compare import raised
from grader.verdicts.probe import Calls, ProbeDefinition
from grader.verdicts.wire import UnitOutcome


def probe_units(bundle: AssignmentBundle) -> dict[str, ProbeDefinition]:
    """The probe definition of every unit the harness runs, by unit id and in the order they are drawn and run: each
    hidden item (its `probe`, by default its id), then each locked item's shadow. An unknown probe is a KeyError."""
    items = bundle.rubric.items
    units = {item.id: getattr(item, "probe", None) or item.id for item in items if item.kind == "hidden"}
    units.update({item.shadow: item.shadow for item in items if item.kind != "hidden" and item.shadow})
    missing = sorted(name for name in units.values() if name not in bundle.probes)
    if missing:
        raise KeyError(f"the {bundle.name} bundle's PROBES has no {', '.join(missing)}")
    return {unit: bundle.probes[name] for unit, name in units.items()}


@dataclass
class ProbePlan:
    """Probe calls per unit id (hidden items and shadows), with the checker for each."""

    bundle: AssignmentBundle
    calls: dict[str, Calls]
    seed: int
    definitions: dict[str, ProbeDefinition]

    @classmethod
    def draw(cls, bundle: AssignmentBundle, seed: int) -> "ProbePlan":
        """Fresh inputs for every probe, from one recorded seed; shadows replay the locked tests' own seeds."""
        rng = np.random.default_rng(seed)
        definitions = probe_units(bundle)
        seeds = tuple(bundle.rubric.locked_test_seeds)
        calls = {unit: definition.generate(rng, seeds) for unit, definition in definitions.items()}
        return cls(bundle=bundle, calls=calls, seed=seed, definitions=definitions)

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
        definition = self.definitions[unit]
        problem = definition.check(calls, outcome.results)
        if problem is None:
            return None
        student_raised = not definition.expects_errors and any(raised(result) for result in outcome.results)
        return ("error" if student_raised else "failed"), problem
