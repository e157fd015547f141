"""Where a benchmark's CPU went, from /proc: the workers, their sandboxes, PostgreSQL, Redis, the bench, the rest.

A process's CPU here is its own plus that of the children it reaped, so a sandbox's short-lived workspaces count
under the sandbox (its PID 1 reaps them) and an exited PostgreSQL backend under the postmaster. Each live
process is counted once, under the first part it belongs to; the difference of two snapshots is what the
benchmark spent in between (a process that started in between counts from zero).
"""

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PARTS = ("workers", "sandboxes", "postgres", "redis", "bench", "rest")


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    comm: str
    started: int
    cpu_s: float


def _read(pid: int) -> Process | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    comm = raw[raw.index(b"(") + 1:raw.rindex(b")")].decode(errors="replace")
    fields = raw.rpartition(b")")[2].split()
    return Process(pid, int(fields[1]), comm, int(fields[19]), sum(int(v) for v in fields[11:15]) / TICKS)


def processes() -> dict[int, Process]:
    found = (_read(int(entry)) for entry in os.listdir("/proc") if entry.isdigit())
    return {process.pid: process for process in found if process is not None}


def descendants(table: dict[int, Process], roots: list[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for process in table.values():
        children.setdefault(process.ppid, []).append(process.pid)
    seen, pending = set(), [root for root in roots if root in table]
    while pending:
        pid = pending.pop()
        if pid not in seen:
            seen.add(pid)
            pending += children.get(pid, [])
    return seen


def _part_of(process: Process, workers: set[int], sandboxes: set[int]) -> str:
    if process.pid in sandboxes:
        return "sandboxes"
    if process.pid in workers:
        return "workers"
    if process.comm.startswith("postgres"):
        return "postgres"
    if process.comm.startswith("redis"):
        return "redis"
    return "bench" if process.pid == os.getpid() else "rest"


def snapshot(worker_roots: list[int]) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, start time) -> (part, CPU seconds so far), for every live process."""
    table = processes()
    workers = descendants(table, worker_roots)
    bwraps = [pid for pid in workers if table[pid].comm == "bwrap"]
    sandboxes = descendants(table, bwraps)
    return {(p.pid, p.started): (_part_of(p, workers, sandboxes), p.cpu_s) for p in table.values()}


def spent(before: dict[tuple[int, int], tuple[str, float]], after: dict[tuple[int, int], tuple[str, float]],
          machine_s: float) -> dict[str, float]:
    """CPU seconds per part between two snapshots; `rest` is what the machine spent beyond the named parts
    (other users of the machine, the kernel's own threads)."""
    totals = dict.fromkeys(PARTS, 0.0)
    for key, (part, cpu) in after.items():
        if part != "rest":
            totals[part] += cpu - (before[key][1] if key in before else 0.0)
    totals["rest"] = max(0.0, machine_s - sum(totals.values()))
    return totals
