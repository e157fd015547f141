"""A bundle's hidden_tests.py, imported by path as a submodule of a package made for the bundle's folder.

No sys.path entry is added: the module is `<package>.hidden_tests` and the package's search path is the bundle
folder alone, so `from .reference.x import y` finds the bundle's reference/ and nothing else of it leaks.
"""

import ast
import hashlib
import importlib.util
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.errors import BundleInvalid

HIDDEN_TESTS = "hidden_tests.py"
PACKAGE_PREFIX = "_grader_bundle_"
_IMPORTING = threading.Lock()  # a module is in sys.modules before it has run; no other thread may take it then


def _package(folder: Path, version: str) -> str:
    """A package of its own per folder and content, made once per process."""
    name = PACKAGE_PREFIX + hashlib.sha256(f"{folder.resolve()}\0{version}".encode()).hexdigest()[:16]
    if name not in sys.modules:
        spec = importlib.util.spec_from_loader(name, loader=None, is_package=True)
        assert spec is not None and spec.submodule_search_locations is not None
        spec.submodule_search_locations.append(str(folder.resolve()))
        sys.modules[name] = importlib.util.module_from_spec(spec)
    return name


def _forget(package: str) -> None:
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


def _failure_line(exc: BaseException, folder: Path) -> tuple[str, int | None]:
    """The bundle file and line where the import failed: the innermost frame inside the bundle."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve().is_relative_to(folder):
        return Path(exc.filename).resolve().relative_to(folder).as_posix(), exc.lineno
    inside = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if Path(frame.filename).resolve().is_relative_to(folder)]
    if not inside:
        return HIDDEN_TESTS, None
    return Path(inside[-1].filename).resolve().relative_to(folder).as_posix(), inside[-1].lineno


def _import(folder: Path, version: str, file: str) -> ModuleType:
    package = _package(folder, version)
    name = f"{package}.hidden_tests"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, folder / HIDDEN_TESTS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # instructor code: any failure to import is the bundle's error, named where it happened
        _forget(package)
        where, line = _failure_line(exc, folder.resolve())
        raise BundleInvalid(f"the hidden tests do not import: {type(exc).__name__}: {str(exc)[:300]}",
                            file=f"{file}/{where}", line=line) from exc
    return module


def _line_of(source: str, name: str) -> int | None:
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return node.lineno
    return None


def _definitions(module: ModuleType, file: str) -> dict[str, Any]:
    """PROBES: every hidden probe and shadow, by name."""
    value = getattr(module, "PROBES", None)
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise BundleInvalid("PROBES must be a dict of probe name -> ProbeDefinition (grader.probe_api)",
                            file=file, line=_line_of(source, "PROBES"))
    for key, definition in value.items():
        if not (callable(getattr(definition, "generate", None)) and callable(getattr(definition, "check", None))):
            raise BundleInvalid(f"PROBES[{key!r}] is not a ProbeDefinition (it needs generate and check)",
                                file=file, line=_line_of(source, "PROBES"))
    return dict(value)


def load_probes(folder: Path, version: str, *, file: str) -> dict[str, Any]:
    """The bundle's probe definitions by name; none without hidden_tests.py."""
    if not (folder / HIDDEN_TESTS).is_file():
        return {}
    with _IMPORTING:
        module = _import(folder, version, file)
    return _definitions(module, f"{file}/{HIDDEN_TESTS}")
