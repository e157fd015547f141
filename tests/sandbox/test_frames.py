"""PID 1 embeds a unit's result in the report as it came, and only a body that cannot reach outside its place.

Only a body that is one self-contained JSON object is embedded, so no frame can reach into the report's other
fields; anything else poisons the channel, as any malformed frame always did.
"""

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "grader" / "sandbox" / "harness"
RESULT = '{"kind":"unit_result","unit":"u","outcome":'


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """The harness's own modules, imported as the sandbox imports them (by bare name, from their folder)."""
    monkeypatch.syspath_prepend(str(HARNESS))
    yield {name: importlib.import_module(name) for name in ("protocol", "report")}
    for name in ("protocol", "report"):
        sys.modules.pop(name, None)


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


@pytest.mark.parametrize("outcome", [
    '{"status":"ok","results":[{"ok":true,"value":{"kind":"array","values":[1,2.5,-3e-7]}}]}',
    '{"status":"failed","error":{"type":"E","message":"}]\\" {[ \\\\","where":""}}',
])
def test_a_well_formed_result_is_embedded_as_it_came(harness: dict[str, ModuleType], outcome: str) -> None:
    body = f"{RESULT}{outcome}}}".encode()
    assert harness["protocol"].parse_frame(body) == {"kind": "unit_result", "unit": "u"}
    record = harness["report"].JobRecord({"limits": {"output_bytes": 100}, "tests": [], "probes": []})
    reader = harness["protocol"].FrameReader()
    for message, raw in reader.feed(_frame(body)):
        record.fold(message, raw, first=True)
    report = json.loads(record.report("exited", "exit 0"))
    assert report["units"]["u"]["unit_result"] == json.loads(body) and not reader.corrupt


@pytest.mark.parametrize("tail", [
    '{}}, "channel_corrupt": false, "setup": {"status": "ok"}, "x": {"y": 1}',  # closes early, then forges fields
    '{}}{"setup": 1}',
    '{"v": NaN}}',
    '{"v": [1, 2}}',
    '"}',
    '{}} ,"ended": "exited"',
])
def test_a_body_that_could_reach_outside_its_place_poisons_the_channel(harness: dict[str, ModuleType],
                                                                       tail: str) -> None:
    reader = harness["protocol"].FrameReader()
    frames: list[Any] = reader.feed(_frame(f"{RESULT}{tail}".encode()) + _frame(b'{"kind": "done"}'))
    assert frames == [] and reader.corrupt
