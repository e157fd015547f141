"""The shape of assignment.yaml, checked field by field; a field that does not fit names its line."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.assignments.marked_yaml import MarkedDocument
from grader.errors import BundleInvalid

ASSIGNMENT_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
GRADE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
MODULE_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
SUBMISSION_FILE = r"^[A-Za-z_][A-Za-z0-9_]*\.(py|ipynb)$"
TENSOR_CLASS = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class LimitsSpec(_Strict):
    """Per-item overrides of the per-unit limits (seconds)."""

    per_test_cpu_s: Annotated[float, Field(gt=0, le=600)] | None = None
    per_test_wall_s: Annotated[float, Field(gt=0, le=1800)] | None = None


class ItemSpec(_Strict):
    """One rubric item: a locked cell of the source (points checked against it) or a hidden probe."""

    id: Annotated[str, Field(pattern=GRADE_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["locked", "hidden"]
    points: Annotated[float, Field(ge=0, le=10_000)]
    shadow: Annotated[str, Field(pattern=GRADE_ID)] | None = None
    probe: Annotated[str, Field(pattern=GRADE_ID)] | None = None
    limits: LimitsSpec | None = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> "ItemSpec":
        if self.kind == "locked" and self.probe is not None:
            raise ValueError("a locked item runs its cell; `probe` is for hidden items (a locked one has `shadow`)")
        if self.kind == "hidden" and self.shadow is not None:
            raise ValueError("`shadow` replays a locked test; a hidden item names its `probe`")
        return self


class PackageSection(_Strict):
    """What the submission imports: files of a folder in the bundle and, by name, files of tinytorch_ref."""

    folder: str | None = None
    from_tinytorch_ref: dict[str, str] = Field(default_factory=dict)
    preimports: list[Annotated[str, Field(pattern=MODULE_PATH)]] | None = None


class AssignmentSpec(_Strict):
    """assignment.yaml as a whole."""

    id: Annotated[str, Field(pattern=ASSIGNMENT_ID)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    submission: Annotated[str, Field(pattern=SUBMISSION_FILE)]
    source: Annotated[str, Field(min_length=1)]
    required_names: list[Annotated[str, Field(pattern=IDENTIFIER)]] = Field(default_factory=list)
    tensor_class: Annotated[str, Field(pattern=TENSOR_CLASS)] | None = None
    package: PackageSection = Field(default_factory=PackageSection)
    locked_test_seeds: Annotated[list[Annotated[int, Field(ge=0, lt=2**32)]], Field(min_length=1)]
    items: Annotated[list[ItemSpec], Field(min_length=1)]

    @property
    def module_name(self) -> str:
        return self.submission.rsplit(".", 1)[0]


# the union and validator branches Pydantic names in an error's location, which the YAML author never wrote
PYDANTIC_TAGS = frozenset({"float", "int", "str", "bool", "list", "dict", "none", "function-after"})


def _where(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "the file"


def parse_spec(document: MarkedDocument) -> AssignmentSpec:
    """The validated spec; the first field that does not fit is a BundleInvalid at its line."""
    if not isinstance(document.data, dict):
        raise BundleInvalid("assignment.yaml must be a mapping of fields (id, title, submission, ...)",
                            file=document.file, line=1)
    try:
        spec = AssignmentSpec.model_validate(document.data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(part for part in first["loc"] if isinstance(part, str | int) and part not in PYDANTIC_TAGS)
        raise document.error(loc, f"{_where(loc)}: {first['msg']}") from exc
    seen: set[str] = set()
    for index, item in enumerate(spec.items):
        if item.id in seen:
            raise document.error(("items", index, "id"), f"the item id {item.id!r} is given twice")
        seen.add(item.id)
    return spec
