"""The workspace process: runs the student's cells once, then each test or probe in a forked child.

Runs INSIDE the sandbox and executes student code, so everything it reports is untrusted outside.
Each unit runs in its own fork with its own CPU limit, so one infinite loop costs one item.
"""

import ast
import contextlib
import linecache
import os
import random
import resource
import select
import signal
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
_send = protocol.send
_compile = compile
_exec = exec


def _compile_cell(source: str, key: str, tree: ast.Module | None = None) -> types.CodeType:
    """Compile under a '<cell KEY>' name so tracebacks point at the student's own cell and line."""
    filename = f"<cell {key}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return _compile(tree if tree is not None else source, filename, "exec", dont_inherit=True, optimize=0)


def make_module(job: dict[str, Any], workdir: str) -> types.ModuleType:
    """A fresh module that the cells execute in, named and placed as a real layers_dev.py would be."""
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
    """Run the test functions of one locked cell; an assertion failure is retried under the next fixed seed."""
    tree = _strip_module_calls(ast.parse(test["source"]))
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    _exec(_compile_cell(test["source"], test["item_id"], tree), namespace)
    functions = [namespace[name] for name in names]
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


def run_probe(probe: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any) -> dict[str, Any]:
    """Every call of one probe, each under a fixed seed so random initialisation is reproducible."""
    results = []
    for call in probe["calls"]:
        np.random.seed(call.get("seed", 0))
        results.append(probes.run_call(call, namespace, tensor_cls))
    return {"status": "ok", "results": results}


def _in_child(unit: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any, channel: int,
              cpu_s: float) -> None:
    """Body of the forked child for one unit; it never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        limit = max(1, int(cpu_s))
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))
        if unit["type"] == "test":
            outcome = run_locked_test(unit["test"], namespace)
        else:
            outcome = run_probe(unit["probe"], namespace, tensor_cls)
        _flush()
        _send(channel, {"kind": "unit_result", "unit": unit["id"], "outcome": outcome})
    except _BaseException:
        code = 70
    _flush()
    _exit(code)


def _wait_child(pid: int, wall_s: float) -> dict[str, Any]:
    """Wait for one unit's child under a wall cap; describe how it ended."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], wall_s)
    finally:
        os.close(pidfd)
    if not ready:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(OSError):
                kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    if not ready:
        return {"ended": "wall", "cpu_s": cpu}
    if os.WIFSIGNALED(status):
        return {"ended": "signal", "signal": os.WTERMSIG(status), "cpu_s": cpu}
    return {"ended": "exit", "code": os.WEXITSTATUS(status), "cpu_s": cpu}


def run_units(job: dict[str, Any], namespace: dict[str, Any], tensor_cls: Any, channel: int) -> None:
    """Fork one child per locked test and per probe, one after the other."""
    limits = job["limits"]
    units = [{"id": t["item_id"], "type": "test", "test": t} for t in job["tests"]]
    units += [{"id": p["probe_id"], "type": "probe", "probe": p} for p in job["probes"]]
    for unit in units:
        _flush()
        pid = os.fork()
        if pid == 0:
            _in_child(unit, namespace, tensor_cls, channel, limits["per_test_cpu_s"])
        _send(channel, {"kind": "unit_start", "unit": unit["id"], "pid": pid})
        ending = _wait_child(pid, limits["per_test_wall_s"])
        _send(channel, {"kind": "unit_end", "unit": unit["id"], **ending})


def workspace_main(job: dict[str, Any], channel: int, workdir: str, tensor_cls: Any) -> None:
    """Entry of the workspace process; it never returns."""
    code = 0
    try:
        os.chdir(workdir)
        limit = max(1, int(job["limits"]["setup_cpu_s"]))
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 1))
        module = make_module(job, workdir)
        run_cells(job, module.__dict__, channel)
        _send(channel, {"kind": "setup_done"})
        run_units(job, module.__dict__, tensor_cls, channel)
        _send(channel, {"kind": "done"})
    except _BaseException:
        code = 70
    _flush()
    _exit(code)
