"""hidden_tests.py is imported by path under a package made for its bundle: relative imports find the bundle's own
reference/, sys.path is never touched, and two bundles with the same file names never see each other's."""

import sys
from pathlib import Path

from grader.assignments.bundle import load_bundle
from tests.assignments.authoring import write_bundle


def test_relative_imports_reach_the_bundles_reference_without_sys_path(tmp_path: Path) -> None:
    path_before = list(sys.path)
    bundle = load_bundle(write_bundle(tmp_path / "b", hidden=True))
    assert sys.path == path_before
    probe = bundle.probes["hidden-scale-random"]
    module = sys.modules[probe.generate.__module__]
    assert module.__name__.startswith("_grader_bundle_") and module.__name__.endswith(".hidden_tests")
    assert Path(module.__file__ or "") == (tmp_path / "b" / "hidden_tests.py").resolve()
    assert "reference" not in sys.modules and "hidden_tests" not in sys.modules


def test_two_bundles_with_the_same_reference_name_keep_their_own(tmp_path: Path) -> None:
    first = load_bundle(write_bundle(tmp_path / "one", hidden=True))
    second_folder = write_bundle(tmp_path / "two", hidden=True)
    (second_folder / "reference" / "scaling.py").write_text(
        "def scale_reference(values, k):\n    return ['second'] * len(values)\n")
    second = load_bundle(second_folder)
    assert first.rubric.version != second.rubric.version, "reference/ decides scores, so it is in the version"
    import numpy as np

    rng = np.random.default_rng(0)
    assert first.probes["hidden-scale-random"].generate(rng, ())[0][0] != "second"
    assert second.probes["hidden-scale-random"].generate(rng, ())[0] == ["second"] * 3


def test_the_version_follows_what_decides_scores_and_nothing_else(tmp_path: Path) -> None:
    folder = write_bundle(tmp_path / "b", hidden=True)
    version = load_bundle(folder).rubric.version
    (folder / "README.md").write_text("notes for the course staff\n")
    (folder / "examples").mkdir()
    (folder / "examples" / "student.py").write_text("x = 1\n")
    assert load_bundle(folder).rubric.version == version
    for changed in ("package/minitorch/tensor.py", "hidden_tests.py", "scale_dev.py", "assignment.yaml"):
        path = folder / changed
        original = path.read_text()
        path.write_text(original + "\n# changed\n")
        assert load_bundle(folder).rubric.version != version, changed
        path.write_text(original)
    assert load_bundle(folder).rubric.version == version
