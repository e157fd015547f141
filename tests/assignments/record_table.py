"""Records tests/data/recorded_table.json: what the grader makes of every sample, hostile and example submission.

The committed table was recorded before issue 12 moved layers into a bundle (main at 7bc50b5), and
test_recorded_table.py holds every later grader to it. Re-record only when a change is meant to alter scores or
verdicts, and say so in the commit:

    .venv/bin/python tests/assignments/record_table.py

Each file goes through the public embedded path (`grade_file_embedded`: accept, claim, the real bubblewrap
sandbox, judge, score, store) and the stored run is read back. Hidden probes draw their inputs from one seed per
run; the one seam used here fixes that seed, so every message, the probes' included, is reproducible.
"""

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from sqlalchemy import select

from grader.config import SandboxSettings, Settings
from grader.db import session_scope
from grader.errors import Rejected
from grader.models import GradingRun
from grader.runtime_context import grade_file_embedded, session_factory
from grader.sandbox.runner import SandboxRunner, make_runner

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "tests" / "data" / "recorded_table.json"
SUBMISSIONS = REPO / "tests" / "data" / "submissions"
HOSTILE = REPO / "tests" / "data" / "hostile"
EXAMPLES = REPO / "grader" / "assignments" / "layers" / "examples"
ASSIGNMENT = "layers"
PROBE_SEED = 1212
# Where a run draws its probe seed: evaluate() calls ProbePlan.draw(bundle, secrets.randbits(32)). The same seed
# must keep drawing the same inputs (probe by probe, in rubric order) after the move, or messages change.
SEED_SEAM = "grader.services.evaluate.secrets"
# expected.yaml gives loop_in_solution a 3 s wall cap beside its 1 s CPU limit; on a busy machine the wall cap
# can fire first, and the message names the limit. Here the CPU limit always decides.
LIMITS_HERE = {"loop_in_solution": {"per_test_wall_s": 20}}
ADDRESS = re.compile(r"\bat 0x[0-9a-f]+")


@dataclass(frozen=True)
class Case:
    """One submission file graded under the name students submit, with the limits its attack needs shrunk."""

    key: str
    path: Path
    filename: str
    limits: dict[str, float] = field(default_factory=dict)


def cases() -> list[Case]:
    """Every sample (under its own name, as `grader grade FILE` submits it), every top-level hostile file (as
    the hostile suite submits it, with expected.yaml's shrunk limits), and every bundled example."""
    attacks = yaml.safe_load((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))["attacks"]
    found = [Case(f"submissions/{path.name}", path, path.name)
             for path in sorted(SUBMISSIONS.iterdir()) if path.is_file() and path.name != "expected.yaml"]
    found += [Case(f"hostile/{path.name}", path, "layers_dev.py",
                   {**attacks.get(path.stem, {}).get("limits", {}), **LIMITS_HERE.get(path.stem, {})})
              for path in sorted(HOSTILE.glob("*.py"))]
    found += [Case(f"examples/{path.name}", path, path.name) for path in sorted(EXAMPLES.glob("*.py"))]
    return found


class _FixedSeed:
    """Stands in for the `secrets` module where a run draws its probe seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def randbits(self, _bits: int) -> int:
        return self.seed


@contextmanager
def fixed_probe_seed(seed: int = PROBE_SEED) -> Iterator[None]:
    """Every run drawn inside draws its probe inputs from `seed`; a grader without the seam fails loudly here."""
    with mock.patch(SEED_SEAM, _FixedSeed(seed)):
        yield


def _stable(text: str) -> str:
    """A default repr names the object's address, which changes from run to run (ASLR in the sandbox)."""
    return ADDRESS.sub("at 0x?", text)


def _stored(settings: Settings, submission_id: str) -> dict[str, Any]:
    with session_scope(session_factory(settings)) as session:
        run = session.scalars(select(GradingRun).where(GradingRun.submission_id == submission_id,
                                                       GradingRun.is_current)).one()
        return {
            "status": str(run.status.value), "error": run.error,
            "score": run.score, "max_score": run.max_score,
            "flags": sorted(run.integrity_flags or []), "locked_cells_modified": run.locked_cells_modified,
            "items": [{"id": item.item_id, "status": item.status, "points": item.points,
                       "max_points": item.max_points, "message": _stable(item.message), "detail": _stable(item.detail)}
                      for item in sorted(run.items, key=lambda item: item.position)],
        }


def grade(case: Case, home: Path, runner: SandboxRunner) -> dict[str, Any]:
    """The case's row: its rejection at accept time, or its stored run."""
    settings = Settings(home=home, database_url="", sandbox=SandboxSettings().model_copy(update=case.limits))
    try:
        document = grade_file_embedded(settings, content=case.path.read_bytes(), filename=case.filename,
                                       student=case.key, assignment=ASSIGNMENT, runner=runner)
    except Rejected as exc:
        return {"rejected": exc.code, "reason": exc.reason}
    return _stored(settings, document["submission_id"])


@contextmanager
def grading() -> Iterator[tuple[Path, SandboxRunner]]:
    """A fresh embedded home and one warm bubblewrap runner (the default pool), shut down afterwards."""
    runner = make_runner(Settings())
    try:
        with tempfile.TemporaryDirectory(prefix="recorded-table-") as home, fixed_probe_seed():
            yield Path(home) / "home", runner
    finally:
        getattr(runner, "close", lambda: None)()


def record() -> dict[str, dict[str, Any]]:
    with grading() as (home, runner):
        return {case.key: grade(case, home, runner) for case in cases()}


def main() -> None:
    table = record()
    TABLE.write_text(json.dumps(table, indent=1, sort_keys=True, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"recorded {len(table)} submissions in {TABLE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
