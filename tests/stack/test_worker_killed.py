"""A worker killed with SIGKILL in the middle of a batch, another started: every submission ends graded, none twice.

60 submissions, one `grader worker` with two processes killed (its whole process group, as when a machine
dies) once 15 are graded and a run is in flight; a second worker finishes the batch. The killed worker's
messages stay unacknowledged in Redis, so the sweeper (beat every 2 s, lease 15 s) re-sends its runs.
"""

from pathlib import Path

import pytest

from tests.stack.stack import deployment, mixed_batch

BATCH = 60
pytestmark = pytest.mark.timeout(420)


def test_a_worker_killed_mid_batch_loses_nothing_and_grades_nothing_twice(
        postgres_server_url: str, tmp_path: Path, embedded_scores: dict[Path, float]) -> None:
    with deployment(postgres_server_url, tmp_path, lease_s=15, sweep_s=2) as stack:
        stack.start_worker("w1", concurrency=2)
        stack.start_beat()
        stack.submit(mixed_batch(embedded_scores, BATCH), scores=embedded_scores)
        stack.wait_for(lambda: stack.graded_count() >= 15 and stack.status_counts()["running"] >= 1,
                       timeout_s=180, what="15 runs graded with one in flight")
        stack.kill("w1")
        in_flight = stack.running_runs()
        stack.start_worker("w2", concurrency=2)
        elapsed = stack.wait_finished(timeout_s=300)
        stack.assert_graded_exactly_once()
        resent = stack.resent_runs()
        assert in_flight, "a run was in flight when the worker was killed"
        taken_over = {run_id: resent.get(run_id) for run_id in in_flight}
        assert all(str(worker).startswith("w2@") for worker in taken_over.values()), (
            f"the killed worker's runs should have come back through the sweeper to w2: {taken_over}")
        print(f"stack-figures: worker-killed batch={BATCH} after_kill_s={elapsed:.1f}")
