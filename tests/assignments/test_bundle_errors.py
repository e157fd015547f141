"""A bundle that does not load says which file and, where there is one, which line, and nothing of it is kept."""

import sys
from pathlib import Path

import pytest

from grader.assignments.bundle import load_bundle
from grader.errors import BundleInvalid
from tests.assignments.authoring import HIDDEN_ITEM, HIDDEN_TESTS, MANIFEST, manifest_line, write_bundle


def _error(folder: Path) -> BundleInvalid:
    with pytest.raises(BundleInvalid) as caught:
        load_bundle(folder)
    return caught.value


def _with(manifest: str, old: str, new: str) -> str:
    assert old in manifest
    return manifest.replace(old, new, 1)


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    manifest = _with(MANIFEST, "required_names: [scale, shift]", "required_names: [scale, shift")
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.file == f"{tmp_path}/b/assignment.yaml" and error.line is not None
    assert manifest_line(manifest, "required_names") <= error.line <= manifest_line(manifest, "tensor_class")
    assert "not valid YAML" in str(error) and f"assignment.yaml, line {error.line}:" in str(error)


def test_a_key_given_twice_names_the_second(tmp_path: Path) -> None:
    manifest = MANIFEST + "title: again\n"
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == len(manifest.splitlines()) and "'title' is given twice" in error.problem


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ("    points: 6", "    points: six", "points: six", "items[1].points"),
    ("    kind: locked\n    points: 6", "    kind: visible\n    points: 6", "kind: visible", "items[1].kind"),
    ("id: scaling", "id: Scaling!", "id: Scaling!", "id: String should match pattern"),
    ("submission: scale_dev.py", "submission: scale-dev.py", "submission:", "submission"),
    ("locked_test_seeds: [1, 2]", "locked_test_seeds: [1, 2]\nrubric_version: x", "rubric_version",
     "rubric_version: Extra inputs are not permitted"),
])
def test_a_field_that_does_not_fit_names_its_line(tmp_path: Path, old: str, new: str, needle: str,
                                                  message: str) -> None:
    manifest = _with(MANIFEST, old, new)
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, needle) and message in error.problem, str(error)


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    error = _error(write_bundle(tmp_path / "b", manifest=_with(MANIFEST, 'title: "Scaling tensors"\n', "")))
    assert error.problem == "title: Field required" and error.line == 1


def test_a_locked_item_whose_points_disagree_with_the_source(tmp_path: Path) -> None:
    manifest = _with(MANIFEST, "    points: 6", "    points: 7")
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.file.endswith("b/assignment.yaml") and error.line == manifest_line(manifest, "points: 7")
    assert error.problem == "item test-shift gives 7 points; the source's cell gives 6 (nbgrader points)"


def test_an_item_whose_cell_does_not_exist(tmp_path: Path) -> None:
    manifest = _with(MANIFEST, "  - id: test-shift", "  - id: test-shfit")
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, "test-shfit")
    assert error.problem == "item test-shfit: the source has no cell 'test-shfit'"


def test_a_locked_item_on_a_cell_that_is_not_a_locked_test(tmp_path: Path) -> None:
    manifest = _with(MANIFEST, "  - id: test-shift", "  - id: shift-impl")
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, "shift-impl") and "is not a locked graded cell" in error.problem


def test_a_package_that_shadows_the_students_module(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    (folder / "package" / "scale_dev.py").write_text("def scale(x, k):\n    return x\n")
    error = _error(folder)
    assert error.file == f"{folder}/package/scale_dev.py"
    assert error.problem == "the package's scale_dev.py shadows the student's module scale_dev (scale_dev.py)"


def test_a_package_folder_named_like_the_students_module_shadows_it_too(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    (folder / "package" / "scale_dev").mkdir()
    (folder / "package" / "scale_dev" / "__init__.py").write_text("")
    assert "shadows the student's module scale_dev" in _error(folder).problem


def test_a_reference_file_that_shadows_the_students_module_names_its_yaml_line(tmp_path: Path) -> None:
    manifest = MANIFEST + "package:\n  from_tinytorch_ref:\n    scale_dev.py: tensor.py\n"
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, "scale_dev.py: tensor.py") and "shadows" in error.problem


def test_an_unknown_reference_file(tmp_path: Path) -> None:
    manifest = MANIFEST + "package:\n  from_tinytorch_ref:\n    minitorch/extra.py: nosuch.py\n"
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, "nosuch.py") and "tinytorch_ref has no file 'nosuch.py'" in str(error)


def test_a_tensor_class_outside_the_package(tmp_path: Path) -> None:
    manifest = _with(MANIFEST, "tensor_class: minitorch.tensor:Tensor", "tensor_class: othertorch.tensor:Tensor")
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, "tensor_class") and "not a module of the package" in error.problem


def test_a_hidden_test_that_fails_to_import_names_its_line(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", hidden=True)
    lines = HIDDEN_TESTS.splitlines()
    lines.insert(3, "raise RuntimeError('the reference data is missing')")
    (folder / "hidden_tests.py").write_text("\n".join(lines) + "\n")
    before = set(sys.modules)
    error = _error(folder)
    assert error.file == f"{folder}/hidden_tests.py" and error.line == 4
    assert error.problem == "the hidden tests do not import: RuntimeError: the reference data is missing"
    assert set(sys.modules) - before == set(), "a failed import leaves no module behind"


def test_a_hidden_test_with_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", hidden=True)
    (folder / "hidden_tests.py").write_text("PROBES = {\n\ndef broken(:\n")
    error = _error(folder)
    assert error.file == f"{folder}/hidden_tests.py" and error.line is not None and "SyntaxError" in error.problem


def test_a_failing_import_inside_the_reference_names_that_file(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", hidden=True)
    (folder / "reference" / "scaling.py").write_text("import numpy\nfrom numpy import no_such_name\n")
    error = _error(folder)
    assert error.file == f"{folder}/reference/scaling.py" and error.line == 2 and "ImportError" in error.problem


def test_hidden_tests_without_a_probes_mapping(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", hidden=True)
    (folder / "hidden_tests.py").write_text('"""No probes."""\n\nPROBES = ["hidden-scale-random"]\n')
    error = _error(folder)
    assert error.line == 3 and "PROBES must be a dict" in error.problem


def test_a_hidden_item_whose_probe_is_unknown(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", hidden=True)
    extra = "  - {id: hidden-shift, name: shift, kind: hidden, points: 1}\n"
    manifest = (folder / "assignment.yaml").read_text() + extra
    (folder / "assignment.yaml").write_text(manifest)
    error = _error(folder)
    assert error.line == manifest_line(manifest, "hidden-shift")
    assert error.problem == ("item hidden-shift: unknown probe 'hidden-shift'; the hidden tests define "
                             "hidden-scale-random")


def test_a_named_probe_and_a_shadow_must_exist(tmp_path: Path) -> None:
    manifest = MANIFEST + HIDDEN_ITEM + "    probe: hidden-scale-other\n"
    folder = write_bundle(tmp_path / "b", manifest=manifest)
    (folder / "hidden_tests.py").write_text(HIDDEN_TESTS)
    (folder / "reference").mkdir()
    (folder / "reference" / "scaling.py").write_text("def scale_reference(values, k):\n    return values\n")
    assert _error(folder).line == manifest_line(manifest, "probe: hidden-scale-other")
    shadowed = _with(MANIFEST, "    points: 6", "    points: 6\n    shadow: shadow-shift")
    error = _error(write_bundle(tmp_path / "c", manifest=shadowed))
    assert error.line == manifest_line(shadowed, "shadow: shadow-shift")
    assert "unknown probe 'shadow-shift'; the hidden tests define none" in error.problem


def test_a_hidden_item_has_a_probe_not_a_shadow(tmp_path: Path) -> None:
    manifest = MANIFEST + HIDDEN_ITEM + "    shadow: x\n"
    error = _error(write_bundle(tmp_path / "b", manifest=manifest))
    assert error.line == manifest_line(manifest, "hidden-scale-random")
    assert "a hidden item names its `probe`" in str(error)


def test_a_missing_source_and_a_missing_manifest(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", manifest=_with(MANIFEST, "source: scale_dev.py", "source: ../scale_dev.py"))
    assert _error(folder).line == 4 and "is not a file of the bundle" in _error(folder).problem
    (tmp_path / "empty").mkdir()
    assert _error(tmp_path / "empty").problem == "not a bundle: it has no assignment.yaml"


def test_an_unclosed_solution_region_names_its_line(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    text = (folder / "scale_dev.py").read_text()
    (folder / "scale_dev.py").write_text(text.replace("    ### END SOLUTION\n", "", 1))
    error = _error(folder)
    assert error.file == f"{folder}/scale_dev.py" and "never closed" in error.problem
    assert error.line == text.splitlines().index("    ### BEGIN SOLUTION") + 1


def test_a_source_that_is_not_a_notebook(tmp_path: Path) -> None:
    manifest = _with(MANIFEST, "source: scale_dev.py", "source: scale_dev.txt")
    folder = write_bundle(tmp_path / "b", manifest=manifest)
    (folder / "scale_dev.txt").write_text("x")
    assert "jupytext percent .py or an .ipynb" in _error(folder).problem


def test_a_grade_id_on_two_cells_of_the_source(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b")
    text = (folder / "scale_dev.py").read_text()
    (folder / "scale_dev.py").write_text(text.replace('"grade_id": "shift-impl"', '"grade_id": "scale-impl"'))
    error = _error(folder)
    assert error.file == f"{folder}/scale_dev.py" and "the grade_id 'scale-impl' is on two cells" in error.problem
