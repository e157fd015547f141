"""Postgres refusing connections for 10 s in the middle of a batch: tasks retry with backoff and finish.

60 submissions, one `grader worker` with two processes and beat, all reaching Postgres through a TCP proxy
the test owns (the shared server keeps running for everyone else). Once 15 are graded the proxy cuts every
connection and refuses new ones for 10 s. Claims and stores fail with OperationalError and are retried by
Celery (backoff 1 s doubling to 4 s, 12 retries); a retried message resumes its own claim. Nothing ends `error`.
"""

import time
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.stack.processes import TcpProxy
from tests.stack.stack import deployment, mixed_batch

BATCH = 60
OUTAGE_S = 10
pytestmark = pytest.mark.timeout(420)


def test_a_database_outage_is_retried_and_nothing_ends_error(
        postgres_server_url: str, tmp_path: Path, embedded_scores: dict[Path, float]) -> None:
    proxy = TcpProxy(target_port=make_url(postgres_server_url).port or 5432)
    proxy.accept()
    try:
        with deployment(postgres_server_url, tmp_path, lease_s=15, sweep_s=2, database_port=proxy.port) as stack:
            stack.start_worker("w1", concurrency=2)
            stack.start_beat()
            stack.submit(mixed_batch(embedded_scores, BATCH), scores=embedded_scores)
            stack.wait_for(lambda: stack.graded_count() >= 15, timeout_s=180, what="15 runs graded")
            proxy.refuse()
            time.sleep(OUTAGE_S)
            proxy.accept()
            elapsed = stack.wait_finished(timeout_s=300)
            stack.assert_graded_exactly_once()
            retries = stack.log_events("task_retry")
            assert retries, "the outage should have been met with retries"
            assert not stack.log_events("task_gave_up")
            print(f"stack-figures: postgres-outage batch={BATCH} outage_s={OUTAGE_S} after_cut_s={elapsed:.1f} "
                  f"retries={len(retries)}")
    finally:
        proxy.refuse()
