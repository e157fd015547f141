"""Single-submission latency on an idle warm worker: API POST to stored score, one submission at a time.

It starts its own `grader serve` and one `grader worker` (one pool process, warm sandbox) against the running
Postgres (a fresh database it drops at the end) and Redis (a database number of its own), warms the worker with
a few submissions, then posts N correct submissions one after the other, each only once the previous one is
stored, and times each from just before its POST until its stored result is visible to a reader (polled every 5 ms on
one indexed row, so a figure is late by at most that).

    .venv/bin/python bench/single_submission.py --submissions 50
"""

import argparse
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from api_load import api_deployment, libpq_url  # bench/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "grader" / "assignments" / "layers" / "examples" / "student_solution.py"
POLL_S = 0.005


@dataclass(frozen=True)
class Stored:
    """One submission's way, in seconds from just before its POST (same host clock throughout)."""

    answered: float  # the POST's 202
    claimed: float  # a worker claimed the run (its started_at)
    graded: float  # the worker stamped finished_at, just before its commit
    visible: float  # a reader saw the stored result
    status: str


def _stored(connection: psycopg.Connection, submission_id: str, started: float, answered: float,
            timeout_s: float) -> Stored:
    """Poll one indexed row until the submission's stored result is visible."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = connection.execute("SELECT status, started_at, finished_at FROM grading_runs WHERE submission_id = %s "
                                 "AND finished_at IS NOT NULL", (submission_id,)).fetchone()
        if row is not None:
            return Stored(answered - started, row[1].timestamp() - started, row[2].timestamp() - started,
                          time.time() - started, row[0])
        time.sleep(POLL_S)
    raise SystemExit(f"submission {submission_id} was not stored within {timeout_s:.0f} s")


def submit_one(client: httpx.Client, connection: psycopg.Connection, index: int, content: bytes) -> Stored:
    """One submission, timed from just before its POST to its stored result."""
    data = {"assignment": "layers", "student": f"s{index:05d}", "external_id": f"single-{index}"}
    started = time.time()
    response = client.post("/api/v1/submissions", data=data, files={"file": ("layers_dev.py", content)})
    if response.status_code != 202:
        raise SystemExit(f"POST answered {response.status_code}: {response.text[:300]}")
    return _stored(connection, response.json()["id"], started, time.time(), timeout_s=60)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(args: argparse.Namespace, base_url: str, token: str, database_url: str) -> list[Stored]:
    content = SOLUTION.read_bytes()
    stored: list[Stored] = []
    with httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client, \
            psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        for index in range(args.warmup + args.submissions):
            one = submit_one(client, connection, index, content)
            if index >= args.warmup:
                stored.append(one)
            time.sleep(args.pause)
    return stored


def report(stored: list[Stored]) -> None:
    statuses: dict[str, int] = {}
    for one in stored:
        statuses[one.status] = statuses.get(one.status, 0) + 1
    ms = [one.visible * 1000 for one in stored]
    steps = {"POST answered": [o.answered for o in stored],
             "answered->claimed": [o.claimed - o.answered for o in stored],
             "claimed->graded": [o.graded - o.claimed for o in stored],
             "graded->visible": [o.visible - o.graded for o in stored]}
    print(f"statuses {statuses}; p50 of each step: " +
          ", ".join(f"{name} {_percentile(values, 0.5) * 1000:.0f} ms" for name, values in steps.items()))
    print(f"POST -> stored score over {len(ms)} sequential submissions on an idle warm worker: "
          f"p50 {_percentile(ms, 0.5):.0f} ms, p95 {_percentile(ms, 0.95):.0f} ms, mean {statistics.fmean(ms):.0f} ms, "
          f"max {max(ms):.0f} ms; load {os.getloadavg()[0]:.2f}")
    print(f"single: {len(ms)} submissions, p50 {_percentile(ms, 0.5):.0f} ms, p95 {_percentile(ms, 0.95):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=3, help="submissions graded first and not counted")
    parser.add_argument("--pause", type=float, default=0.2, help="idle seconds between submissions")
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--postgres", default=os.environ.get(
        "GRADER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}; load {os.getloadavg()[0]:.2f}")
    with api_deployment(args.postgres, args.redis_db, port=19000 + os.getpid() % 1000,
                        burst=args.warmup + args.submissions, extra_env={"GRADER_SANDBOX_POOL": "warm"},
                        worker_args=("--concurrency", "1", "--hostname", "single@%h")) as deployment:
        stored = measure(args, deployment.base_url, deployment.token, deployment.database_url)
    report(stored)


if __name__ == "__main__":
    main()
