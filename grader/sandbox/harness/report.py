"""One job's report as PID 1 assembles it: the workspace's frames folded in, unit ends observed by PID 1 itself.

Runs INSIDE the sandbox, in the supervising process that never runs student code. Every frame comes from a
process that does, so only known shapes are kept, and what is kept is bounded.
"""

import json
from typing import Any

import protocol

MAX_CELLS = 1001
MAX_UNITS = 257


class OutputCapture:
    """Keeps the head and tail of a stream and counts what was dropped between them."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        if room > 0:
            self.head.extend(chunk[:room])
            chunk = chunk[room:]
        self.tail.extend(chunk)
        if len(self.tail) > self.half:
            self.dropped += len(self.tail) - self.half
            del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        middle = f"\n... [{self.dropped} bytes of output dropped] ...\n" if self.dropped else ""
        return (bytes(self.head) + middle.encode() + bytes(self.tail)).decode("utf-8", "replace")


class JobRecord:
    """Everything one job's report says; the caps match what the judge accepts, so capping changes no verdict."""

    def __init__(self, job: dict[str, Any]) -> None:
        limits = job["limits"]
        self.stdout = OutputCapture(int(limits["output_bytes"]))
        self.stderr = OutputCapture(int(limits["output_bytes"]))
        self.frame_budget = int(limits.get("report_bytes", protocol.MAX_FRAME))
        self.unit_ids = [str(t["item_id"]) for t in job["tests"]] + [str(p["probe_id"]) for p in job["probes"]]
        self.cells: list[dict[str, Any]] = []
        self.units: dict[str, dict[str, Any]] = {}
        self.results: dict[str, bytes] = {}
        self.setup: dict[str, Any] = {"status": "running", "cell": None}
        self.finished = False
        self.corrupt = False
        self.frame_bytes = 0
        self.cpu_s = 0.0
        self.max_rss_mib = 0.0

    def fold(self, message: dict[str, Any], body: bytes, *, first: bool) -> str | None:
        """Fold one frame in; return the unit id when it announces a unit. Cell frames count only from the
        first workspace: a replacement re-runs the cells without reporting them again. A unit's result is
        kept as the frame's raw body (it parsed as strict JSON): it can be large, and is never re-encoded."""
        kind = message.get("kind")
        if kind == "cell_start" and first:
            self.setup["cell"] = str(message.get("key"))
        elif kind == "cell_end" and first and len(self.cells) < MAX_CELLS:
            self.cells.append({"key": str(message.get("key")), "error": message.get("error")})
        elif kind == "setup_done" and first:
            self.setup = {"status": "ok", "cell": None}
        elif kind in ("unit_start", "unit_result"):
            unit = str(message.get("unit"))
            if unit in self.units or len(self.units) < MAX_UNITS:
                self.units.setdefault(unit, {})[kind] = message if kind == "unit_start" else None
                if kind == "unit_result":
                    self.results[unit] = body
            return unit if kind == "unit_start" else None
        elif kind == "done":
            self.finished = True
        return None

    def over_budget(self, reader: protocol.FrameReader) -> bool:
        """A workspace that sends more frame bytes than a report may hold is cut off: its report could only be
        rejected, and PID 1's memory must not be the student's to fill."""
        return self.frame_bytes + reader.consumed > self.frame_budget

    def end_unit(self, unit: str, ending: dict[str, Any]) -> None:
        """PID 1's own account of how a unit's process ended; it replaces anything a frame claimed."""
        if unit in self.units or len(self.units) < MAX_UNITS:
            self.units.setdefault(unit, {})["unit_end"] = {"kind": "unit_end", "unit": unit, **ending}

    def ended_without_result(self) -> list[str]:
        """Units whose process ended (PID 1 saw it) before they reported a result: none of them passed."""
        return [unit for unit, record in self.units.items() if "unit_end" in record and "unit_result" not in record]

    def add_usage(self, cpu_s: float, max_rss_kib: int) -> None:
        self.cpu_s += cpu_s
        self.max_rss_mib = max(self.max_rss_mib, max_rss_kib / 1024)

    def account(self, ended: str, exit_status: str) -> dict[str, Any]:
        """The small part of the report the host keeps for its own record (which run-wide limit stopped it)."""
        memory = any(isinstance(cell.get("error"), dict) and cell["error"].get("type") == "MemoryError"
                     for cell in self.cells)
        setup = {"status": self.setup["status"], "cell": str(self.setup["cell"] or "")[:200] or None}
        return {"ended": ended, "exit": exit_status, "setup": setup,
                "cells": [{"error": {"type": "MemoryError"}}] if memory else [],
                "usage": {"cpu_s": round(self.cpu_s, 4), "max_rss_mib": round(self.max_rss_mib, 1)}}

    def report(self, ended: str, exit_status: str) -> bytes:
        """The report as JSON; units' results are spliced in as the raw bodies they arrived as."""
        document = {**self.account(ended, exit_status), "version": 1, "channel_corrupt": self.corrupt,
                    "setup": self.setup, "cells": self.cells, "finished": self.finished,
                    "stdout": self.stdout.text(), "stderr": self.stderr.text()}
        head = json.dumps(document, allow_nan=False)[:-1].encode()
        return head + b', "units": {' + b", ".join(self._unit(unit) for unit in self.units) + b"}}"

    def _unit(self, unit: str) -> bytes:
        fields = [f"{json.dumps(kind)}: ".encode() + (self.results[unit] if value is None else
                                                    json.dumps(value, allow_nan=False).encode())
                  for kind, value in self.units[unit].items()]
        return f"{json.dumps(unit)}: {{".encode() + b", ".join(fields) + b"}"
