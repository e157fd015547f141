"""Workers on several hosts over a real network: network namespaces on a private LAN (10.213.0.0/24), one
services host running Redis and Postgres, worker hosts running `grader worker` inside their namespace.

200 submissions, two worker hosts (two processes each), beat on the services host (lease 15 s, sweep every 2 s).
Once 20 are graded and host w1 has a run in flight, w1's cable is pulled at the switch; while it is cut a third
host, w3, joins, and once it is ready 40 more submissions arrive (so there is work left whatever the speed of
the others): it stores results. The cut lasts until the sweeper has re-sent every run w1 held, which is past
their lease; then w1 is plugged back in. Every submission ends graded exactly once (the database's store ledger),
and w1's in-flight runs were stored by a later attempt after a re-send: they came back through the sweeper.
Then the other hosts are stopped and 10 more submissions are graded by w1 alone: the mended host is back.
"""

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import GradingRun, RunStatus
from tests.stack.hosts import Lan, ServicesPostgres, ServicesRedis, namespaces_available
from tests.stack.ledger import install_ledger
from tests.stack.stack import Stack, mixed_batch

BATCH = 200
WAVE = 40
AFTER = 10
LEASE_S = 15
pytestmark = pytest.mark.timeout(900)


@contextmanager
def lan_deployment(log_dir: Path) -> Iterator[tuple[Stack, Lan]]:
    """The LAN, its services, a migrated database with the store ledger; everything torn down whatever happens."""
    namespaces_available()
    lan = Lan()
    redis_server = ServicesRedis(lan, log_dir)
    postgres = ServicesPostgres(lan, log_dir)
    stack: Stack | None = None
    engine = None
    try:
        lan.start()
        postgres.start()
        redis_server.start()
        engine = make_engine(postgres.local_url)
        upgrade(engine)
        install_ledger(engine)
        stack = Stack.build(engine, log_dir, redis=redis_server, worker_database_url=postgres.lan_url,
                            worker_broker_url=redis_server.lan_url, lease_s=LEASE_S, sweep_s=2)
        yield stack, lan
    finally:
        if stack is not None:
            stack.stop_all()
        if engine is not None:
            engine.dispose()
        redis_server.stop()
        postgres.stop()
        lan.close()


def runs_of(stack: Stack, host: str, *statuses: RunStatus) -> dict[str, int]:
    """Run id -> attempt of the runs a host's worker holds (or stored) as the database has them."""
    with Session(stack.engine) as session:
        rows = session.execute(select(GradingRun.id, GradingRun.attempt).where(
            GradingRun.worker.like(f"{host}@%"), GradingRun.status.in_([status.value for status in statuses])))
        return {run_id: attempt for run_id, attempt in rows}


def worker_ready(stack: Stack, name: str) -> bool:
    """Celery's own "NAME@host ready." line: the worker is consuming."""
    log = stack.log_dir / f"{name}.log"
    return log.exists() and any(f"{name}@" in line and "ready." in line
                                for line in log.read_text(errors="replace").splitlines())


def start_host(stack: Stack, lan: Lan, name: str) -> None:
    stack.start_worker(name, concurrency=2, on=lan.add_host(name), env={"GRADER_HOME": str(stack.log_dir / name)})


def cut_while_busy(stack: Stack, lan: Lan, host: str) -> tuple[dict[str, int], float]:
    """Pull the host's cable once 20 runs are graded and it holds a run; a run it stores in the instant before
    the cut leaves it holding none, and then the cable goes back and the cut is tried again."""
    for _ in range(5):
        stack.wait_for(lambda: stack.graded_count() >= 20 and bool(runs_of(stack, host, RunStatus.RUNNING)),
                       timeout_s=400, what=f"20 runs graded and one in flight on {host}")
        lan.cut(host)
        cut_at = time.monotonic()
        held = runs_of(stack, host, RunStatus.RUNNING)
        if held:
            return held, cut_at
        lan.mend(host)
    raise AssertionError(f"{host} never held a run at the moment its cable was pulled")


def test_a_host_cut_off_past_its_lease_and_a_host_added_mid_batch(
        tmp_path: Path, embedded_scores: dict[Path, float]) -> None:
    with lan_deployment(tmp_path) as (stack, lan):
        start_host(stack, lan, "w1")
        start_host(stack, lan, "w2")
        stack.start_beat(on=lan.on("services"))
        started = time.monotonic()
        stack.submit(mixed_batch(embedded_scores, BATCH), scores=embedded_scores)
        held, cut_at = cut_while_busy(stack, lan, "w1")
        start_host(stack, lan, "w3")
        stack.wait_for(lambda: worker_ready(stack, "w3"), timeout_s=300, what="the added host's worker is ready")
        ready_at = time.monotonic()
        stack.submit(mixed_batch(embedded_scores, WAVE), scores=embedded_scores)  # work is still coming in
        stack.wait_for(lambda: bool(runs_of(stack, "w3", RunStatus.GRADED)), timeout_s=400,
                       what="the host added mid-batch stored a result")
        w3_first_s = time.monotonic() - ready_at
        stack.wait_for(lambda: set(held) <= set(stack.resent_runs()), timeout_s=400,
                       what=f"the sweeper re-sent the {len(held)} runs the cut host held")
        time.sleep(max(0.0, cut_at + LEASE_S + 5 - time.monotonic()))  # the cut outlasts a lease in any case
        lan.mend("w1")
        cut_s = time.monotonic() - cut_at
        stack.wait_finished(timeout_s=600)
        elapsed = time.monotonic() - started
        stack.stop("w2")
        stack.stop("w3")
        before = set(stack.expected)
        stack.submit(mixed_batch(embedded_scores, AFTER), scores=embedded_scores)
        stack.wait_finished(timeout_s=600)

        stack.assert_graded_exactly_once()
        with Session(stack.engine) as session:
            late = Counter(session.scalars(select(GradingRun.worker).where(GradingRun.id.not_in(before))))
        assert [str(worker).split("@")[0] for worker in late] == ["w1"], f"the mended host is back in service: {late}"
        with Session(stack.engine) as session:
            final = {run.id: run for run in session.scalars(select(GradingRun).where(GradingRun.id.in_(held)))}
        came_back = {run_id: (held[run_id], run.attempt, run.dispatches) for run_id, run in final.items()}
        assert all(attempt > held_attempt and dispatches > 1
                   for held_attempt, attempt, dispatches in came_back.values()), came_back
        with Session(stack.engine) as session:
            by_host = Counter(str(worker).split("@")[0] for worker in session.scalars(select(GradingRun.worker)))
        assert by_host["w3"] > 0, by_host
        print(f"stack-figures: hosts batch={BATCH} seconds={elapsed:.1f} cut_s={cut_s:.1f} held={len(held)} "
              f"w3_first_store_after_ready_s={w3_first_s:.1f} by_host={dict(by_host)}")
