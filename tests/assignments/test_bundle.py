"""The shipped layers bundle: rubric points agree with the source, the version follows the content, the package is
what the sandbox has always staged, the release is clean."""

import ast
from pathlib import Path

import pytest

import tinytorch_ref
from grader.assignments.bundle import available_assignments, load_assignment
from grader.assignments.registry import ASSIGNMENTS_DIR, find_assignment, forget_shipped, shipped_assignments
from grader.assignments.release import clear_solutions
from grader.errors import NotFound

BUNDLE = load_assignment("layers")
REFERENCE = Path(tinytorch_ref.__file__).parent


def test_layers_is_shipped_and_totals_90() -> None:
    assert "layers" in shipped_assignments() and "layers" in available_assignments()
    assert find_assignment("layers") is BUNDLE
    assert (BUNDLE.name, BUNDLE.submission_filename, BUNDLE.module_name) == ("layers", "layers_dev.py", "layers_dev")
    assert BUNDLE.folder == ASSIGNMENTS_DIR / "layers"
    assert BUNDLE.rubric.max_score == 90
    locked = {item.id: item.points for item in BUNDLE.rubric.items if item.kind == "locked"}
    assert locked == {"test-matmul-immediate": 10, "test-dense-layer": 15, "test-layer-activation-comprehensive": 15}


def test_every_hidden_item_and_shadow_names_a_probe() -> None:
    for item in BUNDLE.rubric.items:
        if item.kind == "hidden":
            assert item.probe == item.id and item.probe in BUNDLE.probes and item.visibility == "hidden"
        else:
            assert item.probe is None and item.shadow in BUNDLE.probes and item.visibility == "visible"


def test_the_package_stages_the_bytes_the_sandbox_always_staged() -> None:
    files = dict(BUNDLE.package.files)
    assert files == {
        "tinytorch/__init__.py": b'"""TinyTorch, as students import it."""\n',
        "tinytorch/core/__init__.py": b'"""Core modules from earlier course units."""\n',
        "tinytorch/core/tensor.py": (REFERENCE / "tensor.py").read_bytes(),
        "tinytorch/core/activations.py": (REFERENCE / "activations.py").read_bytes(),
    }
    assert BUNDLE.package.tensor_class == "tinytorch.core.tensor:Tensor"
    assert {"tinytorch.core.tensor", "tinytorch.core.activations"} <= set(BUNDLE.package.preimports)


def test_the_bundle_folder_copies_nothing_of_the_reference_library() -> None:
    reference = {path.read_bytes() for path in REFERENCE.glob("*.py")}
    copied = [path for path in (ASSIGNMENTS_DIR / "layers").rglob("*.py") if path.read_bytes() in reference]
    assert copied == []


def test_unknown_assignment_is_not_found() -> None:
    with pytest.raises(NotFound, match="unknown assignment 'convolutions'"):
        find_assignment("convolutions")


def test_version_is_a_stable_content_hash() -> None:
    assert len(BUNDLE.rubric.version) == 16
    forget_shipped()
    try:
        again = load_assignment("layers")
        assert again is not BUNDLE and again.rubric.version == BUNDLE.rubric.version
    finally:
        forget_shipped()


def test_release_clears_every_solution_and_keeps_everything_else() -> None:
    release = clear_solutions(BUNDLE.source_text)
    assert "### BEGIN SOLUTION" not in release and "### END SOLUTION" not in release
    assert release.count("raise NotImplementedError()") == 3
    assert release.count("# YOUR CODE HERE") == 3
    for cell in BUNDLE.source_cells:
        if cell.locked:
            assert cell.source in release
    for chunk in release.split("# %%")[1:]:
        body = chunk.split("\n", 1)[1]
        if not chunk.startswith(" [markdown]"):
            ast.parse(body)


def test_release_of_an_unclosed_region_is_refused() -> None:
    with pytest.raises(ValueError, match="never closed"):
        clear_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")


def test_a_whole_solution_cell_is_cleared_too() -> None:
    source = ('# %% nbgrader={"grade": false, "grade_id": "impl", "locked": false, "solution": true}\n'
              "def secret():\n    return 42\n\n\n"
              '# %% nbgrader={"grade": true, "grade_id": "t", "locked": true, "points": 1, "solution": false}\n'
              "assert secret() == 42\n")
    release = clear_solutions(source)
    assert "return 42" not in release and "assert secret() == 42" in release
    assert release.count("raise NotImplementedError()") == 1


def test_the_readmes_assignment_yaml_is_a_valid_manifest() -> None:
    from grader.assignments.marked_yaml import load_marked
    from grader.assignments.schema import parse_spec

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Assignment bundles\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    spec = parse_spec(load_marked(example, "README.md"))
    assert [item.kind for item in spec.items] == ["locked", "locked", "hidden"]
    assert spec.items[2].limits is not None and spec.items[2].limits.per_test_cpu_s == 10


def test_an_items_own_limits_reach_its_rubric_item(tmp_path: Path) -> None:
    from grader.assignments.bundle import load_bundle
    from grader.sandbox.job import UnitLimits
    from tests.assignments.authoring import MANIFEST, write_bundle

    manifest = MANIFEST.replace("    points: 6", "    points: 6\n    limits: {per_test_cpu_s: 12}")
    items = load_bundle(write_bundle(tmp_path / "b", manifest=manifest)).rubric.items
    assert [item.limits for item in items] == [None, UnitLimits(per_test_cpu_s=12)]
