"""Stack fixtures: the expected score of every sample, graded once on the embedded path."""

from pathlib import Path

import pytest

from grader.config import Settings
from grader.errors import Rejected
from grader.runtime_context import grade_file_embedded
from tests.conftest import EXAMPLE_SOLUTION, SUBMISSIONS


@pytest.fixture(scope="session")
def embedded_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, float]:
    """Score of each distinct gradable file, graded in-process once; the queue must reproduce every one."""
    settings = Settings(home=tmp_path_factory.mktemp("embedded"))
    scores: dict[Path, float] = {}
    for path in [*sorted(SUBMISSIONS.glob("*.py")), EXAMPLE_SOLUTION]:
        try:
            document = grade_file_embedded(settings, content=path.read_bytes(), filename=path.name,
                                           student="expected", assignment="layers")
        except Rejected:
            continue
        scores[path] = float(document["score"])
    assert len(set(scores.values())) >= 4, f"the batch needs a mix of scores, got {scores}"
    return scores
