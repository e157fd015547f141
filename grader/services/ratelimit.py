"""Per-token submission rate limits: a token bucket in Redis, shared by every API process, or in memory."""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis

from grader.config import Settings
from grader.errors import RateLimited
from grader.logs import log_event

logger = logging.getLogger(__name__)

# Refill by elapsed time on Redis's own clock, take one token if there is one, else say how long until there is.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


@dataclass(frozen=True)
class BucketPolicy:
    """Sustained rate and burst of one bucket."""

    rate_per_s: float
    burst: int


class Buckets(Protocol):
    """Take one token from a bucket; the answer is 0 when granted, else the seconds until one is."""

    def take(self, key: str, policy: BucketPolicy) -> float: ...


class MemoryBuckets:
    """Buckets of this process only: for SQLite-and-no-Redis setups and for tests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, policy: BucketPolicy) -> float:
        with self._lock:
            now = time.monotonic()
            tokens, last = self._state.get(key, (float(policy.burst), now))
            tokens = min(float(policy.burst), tokens + (now - last) * policy.rate_per_s)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / policy.rate_per_s
            self._state[key] = (tokens - 1 if wait == 0 else tokens, now)
            return wait


class RedisBuckets:
    """Buckets in Redis, updated atomically by one script, so several API processes share one limit."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(TOKEN_BUCKET_LUA)

    def take(self, key: str, policy: BucketPolicy) -> float:
        """A Redis outage lets submissions through: losing the limit beats losing the submissions."""
        try:
            return float(self._script(keys=[key], args=[policy.rate_per_s, policy.burst]))
        except redis.RedisError as exc:
            log_event(logger, "ratelimit_unavailable", level=logging.WARNING, error=type(exc).__name__)
            return 0.0


def buckets_for(settings: Settings) -> Buckets:
    """Redis when a Redis URL is configured or the broker is Redis; otherwise this process's memory."""
    url = settings.ratelimit_url or settings.broker_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBuckets(url)
    return MemoryBuckets()


def submission_policy(settings: Settings) -> BucketPolicy:
    return BucketPolicy(rate_per_s=settings.submit_rate_per_minute / 60.0, burst=settings.submit_burst)


def check_submission_rate(buckets: Buckets, policy: BucketPolicy, token_id: str) -> None:
    """Raise RateLimited when this token's bucket is empty."""
    wait = buckets.take(f"grader:ratelimit:submit:{token_id}", policy)
    if wait > 0:
        log_event(logger, "rate_limited", token_id=token_id, retry_after_s=round(wait, 2))
        raise RateLimited(wait)
