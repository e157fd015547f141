"""The judge treats the sandbox report as hostile data: malformed or forged reports never yield a pass."""

import json
import pickle
import signal
from typing import Any

import pytest

from grader.assignments.bundle import load_assignment
from grader.sandbox.job import SandboxLimits, SandboxResult
from grader.verdicts.judge import Judge, Judgement
from grader.verdicts.plan import ProbePlan

BUNDLE = load_assignment("layers")
ITEMS = [item.id for item in BUNDLE.rubric.items]
LOCKED = [item.id for item in BUNDLE.rubric.items if item.kind == "locked"]
LIMITS = SandboxLimits()


def report(**overrides: Any) -> dict[str, Any]:
    """A well-formed report of a run in which nothing ran."""
    base: dict[str, Any] = {"version": 1, "ended": "exited", "exit": "exit 0", "channel_corrupt": False,
                            "setup": {"status": "ok", "cell": None}, "cells": [], "units": {}, "finished": True,
                            "stdout": "", "stderr": "", "usage": {"cpu_s": 0.5, "max_rss_mib": 60}}
    return {**base, **overrides}


def judge(raw: bytes | None, *, killed: str | None = None) -> Judgement:
    result = SandboxResult(report=raw, wall_s=1.0, cpu_s=1.0, max_rss_mib=60.0, killed=killed, exit="exit 0")
    return Judge(BUNDLE, ProbePlan.draw(BUNDLE, 1), LIMITS).judge(result)


def statuses(judgement: Judgement) -> dict[str, str]:
    return {item: judgement.verdicts[item].status for item in ITEMS}


MALFORMED = {
    "empty": b"",
    "garbage": b"\x00\xffnot json",
    "truncated": json.dumps(report()).encode()[:-20],
    "pickle": pickle.dumps(report()),
    "nan": json.dumps(report()).replace('"cpu_s": 0.5', '"cpu_s": NaN').encode(),
    "wrong version": json.dumps(report(version=2)).encode(),
    "wrong types": json.dumps(report(units=[1, 2])).encode(),
    "too many units": json.dumps(report(units={str(i): {} for i in range(300)})).encode(),
    "huge stdout": json.dumps(report(stdout="x" * 2_000_000)).encode(),
    "array lie": json.dumps(report(units={"hidden-matmul-random": {"unit_result": {"outcome": {
        "status": "ok", "results": [{"ok": True, "value": {"kind": "steps", "values": [{
            "kind": "array", "shape": [1], "dtype": "float64", "values": ["zero"]}]}}]}}}})).encode(),
    "a value where the steps go": json.dumps(report(units={"hidden-matmul-random": {"unit_result": {"outcome": {
        "status": "ok", "results": [{"ok": True, "value": {"kind": "none"}}]}}}})).encode(),
    "steps inside steps": json.dumps(report(units={"hidden-matmul-random": {"unit_result": {"outcome": {
        "status": "ok", "results": [{"ok": True, "value": {"kind": "steps", "values": [
            {"kind": "steps", "values": []}]}}]}}}})).encode(),
    "too many steps": json.dumps(report(units={"hidden-matmul-random": {"unit_result": {"outcome": {
        "status": "ok", "results": [{"ok": True, "value": {"kind": "steps", "values": [{"kind": "none"}] * 65}}]}}}}
                                   )).encode(),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_report_is_an_error_for_every_item_never_a_pass(raw: bytes) -> None:
    assert set(statuses(judge(raw)).values()) == {"error"}


def test_no_report_after_a_timeout_or_an_oversized_report() -> None:
    assert set(statuses(judge(None, killed="timeout")).values()) == {"timeout"}
    assert set(statuses(judge(None, killed="output")).values()) == {"error"}


def test_a_run_that_timed_out_keeps_what_finished() -> None:
    finished = {"unit_result": {"outcome": {"status": "failed"}}, "unit_end": {"ended": "exit"}}
    judgement = judge(json.dumps(report(ended="timeout", units={"test-matmul-immediate": finished})).encode(),
                      killed="timeout")
    assert judgement.verdicts["test-matmul-immediate"].status == "failed"
    assert {judgement.verdicts[item].status for item in ITEMS[1:]} == {"timeout"}


def test_a_forged_locked_pass_without_its_trusted_shadow_is_not_a_pass() -> None:
    units = {item: {"unit_result": {"outcome": {"status": "passed"}}} for item in LOCKED}
    units.update({item: {"unit_result": {"outcome": {"status": "passed"}}} for item in ITEMS if item not in LOCKED})
    judgement = judge(json.dumps(report(units=units)).encode())
    assert "passed" not in statuses(judgement).values()
    assert sorted(judgement.flags) == sorted(f"locked_test_untrusted:{item}" for item in LOCKED)


SETUP_ENDINGS = [
    ({"exit": f"signal {signal.SIGXCPU}"}, "timeout"),
    ({"exit": f"signal {signal.SIGKILL}", "usage": {"cpu_s": LIMITS.cpu_s}}, "timeout"),
    ({"exit": f"signal {signal.SIGKILL}", "usage": {"cpu_s": 0.4}}, "error"),
    ({"exit": "exit 0"}, "error"),
    ({"ended": "timeout"}, "timeout"),
]


@pytest.mark.parametrize(("ending", "expected"), SETUP_ENDINGS)
def test_a_notebook_that_never_finished_importing(ending: dict[str, Any], expected: str) -> None:
    raw = json.dumps(report(setup={"status": "running", "cell": "matmul-naive"}, **ending)).encode()
    assert set(statuses(judge(raw)).values()) == {expected}


UNIT_ENDINGS = [
    ({"ended": "wall", "cpu_s": 0.1}, "timeout"),
    ({"ended": "signal", "signal": int(signal.SIGXCPU), "cpu_s": 5.0}, "timeout"),
    ({"ended": "signal", "signal": int(signal.SIGKILL), "cpu_s": 5.6}, "timeout"),
    ({"ended": "signal", "signal": int(signal.SIGKILL), "cpu_s": 0.2}, "error"),
    ({"ended": "exit", "code": 0, "cpu_s": 0.2}, "error"),
]


@pytest.mark.parametrize(("ending", "expected"), UNIT_ENDINGS)
def test_a_unit_that_never_reported(ending: dict[str, Any], expected: str) -> None:
    raw = json.dumps(report(units={"hidden-matmul-random": {"unit_start": {"pid": 9}, "unit_end": ending}})).encode()
    assert judge(raw).verdicts["hidden-matmul-random"].status == expected


def test_output_is_made_storable() -> None:
    raw = json.dumps(report(stdout="nul \x00 and lone \udcff", cells=[
        {"key": "c\x00", "error": {"type": "ValueError", "message": "\x00\udcff"}}])).encode()
    judgement = judge(raw)
    assert "\x00" not in judgement.output and "\x00" not in "".join(judgement.cell_errors)
    judgement.output.encode("utf-8")
    "".join(judgement.cell_errors).encode("utf-8")
