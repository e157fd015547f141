"""Which bundle an assignment name means: the bundles shipped with the grader, and any this process was given.

`find_assignment` is the one lookup every service, the dashboard and the CLI use. A bundle loaded from a path
(`grader grade --bundle DIR`) is registered for this process only and takes its name's place here; nothing of it
is stored but the submissions graded against it, whose runs name its rubric version.
"""

import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from grader.assignments.archive import MANIFEST
from grader.assignments.package_files import load_package
from grader.errors import NotFound

if TYPE_CHECKING:  # the loader (the notebook reader, hidden tests) is imported by what loads a bundle, not here
    from grader.assignments.loaded import AssignmentBundle
    from grader.sandbox.package import PackageSpec

ASSIGNMENTS_DIR = Path(__file__).resolve().parent
_REGISTERED: dict[str, "AssignmentBundle"] = {}
_LOADING = threading.Lock()  # `grader grade` loads the bundle on the sandbox's thread and its own at once


def shipped_assignments() -> list[str]:
    """Every bundle folder of the grader's own assignments, by folder name (which is its id)."""
    return sorted(path.parent.name for path in ASSIGNMENTS_DIR.glob(f"*/{MANIFEST}"))


def available_assignments() -> list[str]:
    """The names this process can grade: shipped ones and those registered here."""
    return sorted({*shipped_assignments(), *_REGISTERED})


def _shipped_folder(name: str) -> Path:
    if name not in shipped_assignments():
        raise NotFound(f"unknown assignment {name!r}; known: {', '.join(available_assignments())}")
    return ASSIGNMENTS_DIR / name


def load_assignment(name: str) -> "AssignmentBundle":
    """A shipped bundle, loaded and checked once per process."""
    with _LOADING:
        return _load_shipped(name)


@cache
def _load_shipped(name: str) -> "AssignmentBundle":
    from grader.assignments.loader import load_folder

    folder = _shipped_folder(name)
    bundle = load_folder(folder, file=f"grader/assignments/{name}")
    if bundle.name != name:
        raise NotFound(f"the shipped bundle in {folder.name}/ has the id {bundle.name!r}; it must be {name!r}")
    return bundle


def register_bundle(bundle: "AssignmentBundle") -> None:
    """Make `bundle` what its name means in this process (before a shipped bundle of the same name)."""
    _REGISTERED[bundle.name] = bundle


def unregister_bundle(name: str) -> None:
    _REGISTERED.pop(name, None)


def find_assignment(name: str) -> "AssignmentBundle":
    """The bundle an assignment name means here: one registered in this process, else the shipped one."""
    registered = _REGISTERED.get(name)
    return registered if registered is not None else load_assignment(name)


def find_package(name: str) -> "PackageSpec":
    """The package `find_assignment(name)` has, read without loading the rest of a shipped bundle (its source, its
    hidden tests): a sandbox for it can start while this process loads the bundle."""
    registered = _REGISTERED.get(name)
    return registered.package if registered is not None else _shipped_package(name)


@cache
def _shipped_package(name: str) -> "PackageSpec":
    return load_package(_shipped_folder(name), file=f"grader/assignments/{name}")


def use_bundle(path: Path) -> str:
    """Load the bundle at `path` (folder or archive) and make it what its id means in this process; its id."""
    from grader.assignments.loader import load_bundle

    bundle = load_bundle(path)
    register_bundle(bundle)
    return bundle.name


def forget_shipped() -> None:
    """Drop the loaded shipped bundles, so the next lookup reads their folders again (tests, a reload)."""
    with _LOADING:
        _load_shipped.cache_clear()
        _shipped_package.cache_clear()
