"""The workspace process: runs the student's cells, then each locked test and probe, reporting on fd 3.

Runs INSIDE the sandbox and executes student code, so everything it reports is untrusted outside. It is a
fresh fork of the zygote; PID 1 enforces every per-unit limit from outside it.
"""

import ast
import contextlib
import linecache
import os
import random
import sys
import types
from typing import Any

import numpy as np
import probes
import protocol

_AssertionError = AssertionError
_MemoryError = MemoryError
_BaseException = BaseException
_exit = os._exit
_getpid = os.getpid
_send = protocol.send
_compile = compile
_exec = exec
_isinstance = isinstance
_len = len
_np_seed = np.random.seed
_seed = random.seed
CHANNEL_FD = 3
MAX_SWEEP_FAILURES = 5
Names = dict[str, tuple[bool, Any]]


def _compile_cell(source: str, key: str, tree: ast.Module | None = None) -> types.CodeType:
    """Compile under a '<cell KEY>' name so tracebacks point at the student's own cell and line."""
    filename = f"<cell {key}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return _compile(tree if tree is not None else source, filename, "exec", dont_inherit=True, optimize=0)


def make_module(job: dict[str, Any], workdir: str) -> types.ModuleType:
    """A fresh module that the cells execute in, named and placed as the submitted file itself would be."""
    name = job["module_name"]
    module = types.ModuleType(name)
    module.__file__ = os.path.join(workdir, f"{name}.py")
    sys.modules[name] = module
    sys.argv = [module.__file__]
    return module


def run_cells(job: dict[str, Any], namespace: dict[str, Any], channel: int) -> None:
    """Execute every cell in order; an exception is recorded and the next cell still runs (as nbgrader)."""
    for cell in job["cells"]:
        _send(channel, {"kind": "cell_start", "key": cell["key"]})
        error = None
        try:
            _exec(_compile_cell(cell["source"], cell["key"]), namespace)
        except _MemoryError:
            error = {"type": "MemoryError", "message": "out of memory", "where": ""}
        except _BaseException as exc:
            error = probes.describe_exception(exc)
        _flush()
        _send(channel, {"kind": "cell_end", "key": cell["key"], "error": error})


def _flush() -> None:
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def _strip_module_calls(tree: ast.Module) -> ast.Module:
    """Drop a locked cell's top-level calls: the grader calls the tests it defines, by their real names."""
    tree.body = [
        node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))
    ]
    return tree


def run_locked_test(test: dict[str, Any], namespace: dict[str, Any]) -> dict[str, Any]:
    """Run the test functions of one locked cell; an assertion failure is retried under the next fixed seed. A
    sweep (`check`) instead runs them once under every seed and counts."""
    tree = _strip_module_calls(ast.parse(test["source"]))
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    _exec(_compile_cell(test["source"], test["item_id"], tree), namespace)
    functions = [namespace[name] for name in names]
    if test.get("sweep") and functions:
        return sweep_locked_test(test, functions)
    failure: dict[str, Any] = {"status": "error", "error": {"type": "HarnessError",
                                                            "message": "no test function", "where": ""}}
    for attempt, seed in enumerate(test["seeds"], start=1):
        np.random.seed(seed)
        random.seed(seed)
        try:
            for function in functions:
                function()
        except _AssertionError as exc:
            failure = {"status": "failed", "error": probes.describe_exception(exc), "attempts": attempt}
            continue
        except _MemoryError:
            return {"status": "memory", "error": {"type": "MemoryError", "message": "out of memory", "where": ""}}
        except _BaseException as exc:
            return {"status": "error", "error": probes.describe_exception(exc), "attempts": attempt}
        return {"status": "passed", "attempts": attempt}
    return failure


def sweep_locked_test(test: dict[str, Any], functions: list[Any]) -> dict[str, Any]:
    """Run the test functions once under each seed, never retrying: how many seeds pass, and the first few that
    fail with their errors (bounded, so the frame stays small however many seeds fail)."""
    passed = 0
    failures: list[dict[str, Any]] = []
    seeds = [int(seed) for seed in test["seeds"]]
    for seed in seeds:
        _np_seed(seed)
        _seed(seed)
        try:
            for function in functions:
                function()
        except _MemoryError:
            return {"status": "memory", "error": {"type": "MemoryError", "message": "out of memory", "where": ""}}
        except _BaseException as exc:
            if _len(failures) < MAX_SWEEP_FAILURES:
                failures.append({"seed": seed, "error": probes.describe_exception(exc),
                                 "assertion": _isinstance(exc, _AssertionError)})
            continue
        passed += 1
    return {"status": "swept", "runs": _len(seeds), "passed": passed, "failures": failures}


def run_probe(probe: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any, names: Names) -> dict[str, Any]:
    """Every program of one probe, each under its own seed so random initialisation is reproducible."""
    return {"status": "ok", "results": [probes.run_call(call, namespace, tensor_cls, names) for call in probe["calls"]]}


def _run_unit(unit: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any, names: Names) -> dict[str, Any]:
    if unit["type"] == "test":
        return run_locked_test(unit["test"], namespace)
    return run_probe(unit["probe"], namespace, tensor_cls, names)


def _skipped(unit: dict[str, Any], not_passed: set[str]) -> bool:
    """A shadow whose locked test did not pass is not run: the judge reads a shadow only after its test passed,
    and whatever a workspace claims here, a skipped shadow can only make that test fail, never pass."""
    return unit["type"] == "probe" and unit["probe"].get("only_if_passed") in not_passed


def run_units(job: dict[str, Any], control: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any,
              channel: int, names: Names) -> None:
    """Run the locked tests, then the probes, one after the other in this process, from unit `control["start"]` on;
    a shadow whose locked test did not pass (here, or in a workspace PID 1 saw end before its result) is skipped.

    PID 1 watches this process's CPU and wall time per unit (it learns which unit runs from `unit_start`) and
    ends it on an overrun; a unit that ends the process (os._exit, a signal, an escaping exception) ends it too.
    PID 1 then forks a fresh workspace from the zygote that re-runs the cells and continues with the next unit,
    so every unit still starts from a notebook that nothing else has touched since its cells ran.
    """
    units = [{"id": t["item_id"], "type": "test", "test": t} for t in job["tests"]]
    units += [{"id": p["probe_id"], "type": "probe", "probe": p} for p in job["probes"]]
    not_passed = {str(unit) for unit in control.get("ended_without_result", [])}
    for unit in units[int(control["start"]):]:
        if _skipped(unit, not_passed):
            continue
        _flush()
        _send(channel, {"kind": "unit_start", "unit": unit["id"], "pid": _getpid()})
        try:
            outcome = _run_unit(unit, namespace, tensor_cls, names)
            if unit["type"] == "test" and outcome.get("status") != "passed":
                not_passed.add(unit["id"])
            _flush()
            _send(channel, {"kind": "unit_result", "unit": unit["id"], "outcome": outcome})
        except _BaseException:
            _flush()
            _exit(70)


def _run_cells_quietly(job: dict[str, Any], namespace: dict[str, Any]) -> None:
    """A replacement workspace re-runs the cells to rebuild the notebook; their output was captured already."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = (os.dup(1), os.dup(2))
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    for cell in job["cells"]:
        with contextlib.suppress(_BaseException):
            _exec(_compile_cell(cell["source"], cell["key"]), namespace)
    _flush()
    for target, fd in enumerate(saved, start=1):
        os.dup2(fd, target)
        os.close(fd)


def workspace_main(job: dict[str, Any], control: dict[str, Any], tensor_cls: Any) -> None:
    """Entry of a workspace process, a fresh fork of the zygote; it never returns."""
    code = 0
    try:
        names = probes.bind_names(job)
        workdir = control["workdir"]
        os.chdir(workdir)
        module = make_module(job, workdir)
        if control["start"] == 0:
            run_cells(job, module.__dict__, CHANNEL_FD)
            _send(CHANNEL_FD, {"kind": "setup_done"})
        else:
            _run_cells_quietly(job, module.__dict__)
        run_units(job, control, module.__dict__, tensor_cls, CHANNEL_FD, names)
        _send(CHANNEL_FD, {"kind": "done"})
    except _BaseException:
        code = 70
    _flush()
    _exit(code)
