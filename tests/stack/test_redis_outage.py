"""Redis stopped in the middle of a batch for 10 s and started again with its data gone: everything ends graded.

60 submissions, one `grader worker` with two processes and beat (sweep every 2 s, lease 15 s). Once 15
are graded, Redis is stopped (no persistence, so every queued message is lost), and started empty 10 s
later. Workers and beat reconnect by themselves; the sweeper finds the runs nobody claims and re-sends them.
"""

import time
from pathlib import Path

import pytest

from tests.stack.stack import deployment, mixed_batch

BATCH = 60
OUTAGE_S = 10
pytestmark = pytest.mark.timeout(420)


def test_a_redis_restart_that_loses_every_message_loses_no_submission(
        postgres_server_url: str, tmp_path: Path, embedded_scores: dict[Path, float]) -> None:
    with deployment(postgres_server_url, tmp_path, lease_s=15, sweep_s=2) as stack:
        stack.start_worker("w1", concurrency=2)
        stack.start_beat()
        stack.submit(mixed_batch(embedded_scores, BATCH), scores=embedded_scores)
        stack.wait_for(lambda: stack.graded_count() >= 15, timeout_s=180, what="15 runs graded")
        stack.redis.stop()
        time.sleep(OUTAGE_S)
        stack.redis.start()
        elapsed = stack.wait_finished(timeout_s=300)
        stack.assert_graded_exactly_once()
        lost = stack.resent_runs()
        assert lost, "the runs whose messages died with Redis should have been re-sent by the sweeper"
        print(f"stack-figures: redis-outage batch={BATCH} outage_s={OUTAGE_S} after_restart_s={elapsed:.1f} "
              f"resent={len(lost)}")
