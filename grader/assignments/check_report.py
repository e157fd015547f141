"""What `check` found, as plain JSON-able data: stored with a published version, shown as a table or `--json`."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field


class CheckModel(BaseModel):
    """Stored reports are read back by later code: unknown fields (a newer report's, or the computed ones this
    model writes) are ignored, not errors."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Sweep(CheckModel):
    """One locked test run once under each of `runs` seeds on the solution: how many passed, the first failure.

    `error` says why there is no count at all (the sweep unit ran out of time, or its process ended).
    """

    runs: int = Field(ge=0)
    passed: int = Field(ge=0)
    failing_seed: int | None = None
    failing_message: str = ""
    error: str = ""

    @property
    def rate(self) -> float:
        """The share of seeds the solution passed (0 when the sweep reported nothing)."""
        return self.passed / self.runs if self.runs and not self.error else 0.0


class CheckItem(CheckModel):
    """One rubric item's row of the check table."""

    id: str
    name: str
    kind: Literal["locked", "hidden"]
    points: float
    solution_passes: int = Field(ge=0)
    solution_runs: int = Field(ge=0)
    solution_message: str = ""
    release_passes: bool
    sweep: Sweep | None = None

    @property
    def solution_rate(self) -> float:
        return self.solution_passes / self.solution_runs if self.solution_runs else 0.0

    @property
    def flaky(self) -> bool:
        """A locked test that failed the solution under some seed (or could not be swept at all)."""
        return self.sweep is not None and (bool(self.sweep.error) or self.sweep.passed < self.sweep.runs)


class CheckReport(CheckModel):
    """The whole check of one bundle; `passed` is the verdict publishing goes by."""

    assignment: str
    title: str
    rubric_version: str
    runs: int
    full_runs: int
    seed: int
    fixed_seeds: int
    max_score: float
    solution_scores: list[float]
    release_score: float
    items: list[CheckItem]
    cost_s: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        """The solution earned full marks in every graded run."""
        return bool(self.solution_scores) and all(score == self.max_score for score in self.solution_scores)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flaky(self) -> list[str]:
        """Locked tests that fail a correct solution under some seeds."""
        return [item.id for item in self.items if item.flaky]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tests_nothing(self) -> list[str]:
        """Items the student release (every solution cleared) passes."""
        return [item.id for item in self.items if item.release_passes]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON data (what `CheckReport.model_validate` reads back)."""
        return self.model_dump(mode="json")
