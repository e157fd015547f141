"""Every hostile submission in tests/data/hostile: contained with its expected statuses, never above its honest
twin, nothing of it alive once graded, and the next (correct) submission still gets full marks."""

from collections.abc import Callable
from typing import Any

from grader.sandbox.runner import SandboxRunner

from .conftest import Grade, expected_statuses, sandbox_processes
from .targets import HostileTargets


def test_attack_is_contained_and_gains_nothing(attack: str, table: dict[str, Any], grade_file: Grade,
                                               twin_score: Callable[[str], float], runner: SandboxRunner,
                                               targets: HostileTargets) -> None:
    assert attack in table["attacks"], f"the {targets.bundle} table has no expectations for {attack}"
    entry = table["attacks"][attack]
    evaluation = grade_file(attack, **entry.get("limits", {}))
    strays = sandbox_processes(runner)
    statuses = {scored.item.id: scored.verdict.status for scored in evaluation.score.items}
    assert statuses == expected_statuses(table, entry, targets.bundle)
    assert evaluation.score.total == entry["score"]
    assert evaluation.score.total <= twin_score(entry.get("twin", "honest"))
    assert sorted(evaluation.flags) == sorted(entry.get("flags", []))
    assert evaluation.result.killed == entry.get("killed")
    assert strays == [], "a process of the run outlived it"
    for text in entry.get("output_has", []):
        assert text in evaluation.output
    for text in entry.get("output_lacks", []):
        assert text not in evaluation.output
    assert len(evaluation.output) <= entry.get("max_output_chars", 140_000)
    assert evaluation.result.wall_s <= entry.get("max_wall_s", 120)
    next_submission = grade_file("honest")
    assert next_submission.score.total == table["twins"]["honest"]["score"] and next_submission.flags == []
