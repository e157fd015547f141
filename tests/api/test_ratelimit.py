"""Per-token submission limits: a token bucket in Redis shared by API processes; 429 with Retry-After."""

import time

import pytest
from fastapi.testclient import TestClient

from grader.api.app import create_app
from grader.services.ratelimit import BucketPolicy, MemoryBuckets, RedisBuckets
from tests.api.conftest import API_REDIS_DB, RecordingDispatcher, build_world, redis_url, submit


def test_two_api_processes_share_one_bucket_per_token(api_database: str) -> None:
    """Two apps (as two uvicorn processes would) over the same Redis: together they allow one burst."""
    world = build_world(api_database, buckets=RedisBuckets(redis_url(API_REDIS_DB)), submit_burst=3,
                        submit_rate_per_minute=1.0)
    twin = TestClient(create_app(world.settings, dispatcher=RecordingDispatcher()))
    with world.client, twin:
        statuses = [submit(client, world.tokens["lms"]).status_code for client in (world.client, twin) * 2]
        assert statuses == [202, 202, 202, 429]
        limited = submit(twin, world.tokens["lms"])
        assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        other = submit(world.client, world.tokens["other_lms"])
        assert other.status_code == 202, "each token has its own bucket"


def test_a_throttled_post_stores_nothing(api_database: str) -> None:
    world = build_world(api_database, submit_burst=1, submit_rate_per_minute=1.0)
    with world.client:
        assert submit(world.client, world.tokens["lms"]).status_code == 202
        assert submit(world.client, world.tokens["lms"]).status_code == 429
        assert len(world.dispatcher.messages) == 1


@pytest.mark.parametrize("buckets", [MemoryBuckets(), RedisBuckets(redis_url(API_REDIS_DB))],
                         ids=["memory", "redis"])
def test_bucket_refills_at_the_configured_rate(buckets: MemoryBuckets | RedisBuckets) -> None:
    policy = BucketPolicy(rate_per_s=20.0, burst=2)
    key = f"grader:test:{time.monotonic_ns()}"
    assert [buckets.take(key, policy) for _ in range(2)] == [0.0, 0.0]
    wait = buckets.take(key, policy)
    assert 0 < wait <= 0.05 + 1e-6
    time.sleep(0.12)
    assert buckets.take(key, policy) == 0.0


def test_an_unreachable_redis_lets_submissions_through() -> None:
    buckets = RedisBuckets("redis://127.0.0.1:1/0")
    assert buckets.take("grader:test:down", BucketPolicy(rate_per_s=1.0, burst=1)) == 0.0
