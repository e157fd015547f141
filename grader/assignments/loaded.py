"""A loaded, checked bundle: everything the grader knows about one assignment; students never see the hidden parts."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import NotFound
from grader.notebooks.cells import SourceCell
from grader.sandbox.package import PackageSpec
from grader.scoring.rubric import Rubric


@dataclass(frozen=True)
class AssignmentBundle:
    """One assignment: its source and cells, its rubric (with the version), its probes and its staged package.

    `probes` is the bundle's PROBES mapping (probe name -> definition, shadows included), empty without
    hidden_tests.py. `folder` is where its files are read from (an archive's temporary extraction, kept alive
    by `keepalive` for as long as this object lives).
    """

    name: str
    title: str
    submission_filename: str
    module_name: str
    source_text: str
    source_cells: tuple[SourceCell, ...]
    required_names: tuple[str, ...]
    rubric: Rubric
    probes: Mapping[str, Any]
    package: PackageSpec
    folder: Path
    keepalive: object = field(default=None, repr=False, compare=False)

    def cell(self, grade_id: str) -> SourceCell:
        for cell in self.source_cells:
            if cell.grade_id == grade_id:
                return cell
        raise NotFound(f"the {self.name} source has no cell {grade_id!r}")
