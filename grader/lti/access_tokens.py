"""AGS access tokens: a client-credentials grant with a JWT assertion signed by the tool key, shared by workers.

Each token is cached (Redis when there is one) until shortly before its expires_in, and one lock per platform
and scope set makes concurrent workers wait for a single token request instead of each asking for its own:
a platform that sees a token request per score rate-limits the tool.
"""

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import httpx
import jwt
import redis
from sqlalchemy.orm import Session

from grader.config import Settings
from grader.errors import TokenRequestFailed
from grader.lti.answers import platform_message, rate_limited, retry_after_s
from grader.lti.keys import SIGNING_ALGORITHM, signing_key
from grader.models import LtiPlatform

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 300
LOCK_TIMEOUT_S = 30


class TokenStore(Protocol):
    """Where tokens wait between scores; shared by every worker when it is Redis."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, token: str, ttl_s: float) -> None: ...

    def drop_if(self, key: str, token: str) -> None: ...

    def lock(self, key: str) -> AbstractContextManager[None]: ...


class RedisTokenStore:
    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def get(self, key: str) -> str | None:
        value = self._client.get(key)
        return value.decode("ascii") if isinstance(value, bytes) else None

    def put(self, key: str, token: str, ttl_s: float) -> None:
        self._client.set(key, token, px=max(int(ttl_s * 1000), 1))

    def drop_if(self, key: str, token: str) -> None:
        """Only the token the platform refused goes: another worker may already have stored a fresh one."""
        if self.get(key) == token:
            self._client.delete(key)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._client.lock(f"{key}:lock", timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_TIMEOUT_S):
            yield


@dataclass
class MemoryTokenStore:
    """One process's cache, for an installation without Redis."""

    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> str | None:
        token, until = self._tokens.get(key, ("", 0.0))
        return token if token and until > time.monotonic() else None

    def put(self, key: str, token: str, ttl_s: float) -> None:
        self._tokens[key] = (token, time.monotonic() + ttl_s)

    def drop_if(self, key: str, token: str) -> None:
        if self.get(key) == token:
            self._tokens.pop(key, None)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._lock:
            yield


def token_store_for(settings: Settings) -> RedisTokenStore | MemoryTokenStore:
    url = settings.lti_token_cache_url or settings.broker_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisTokenStore(url)
    return MemoryTokenStore()


def client_assertion(session: Session, settings: Settings, platform: LtiPlatform) -> str:
    """iss and sub are our client id, aud the token URL (IMS Security Framework 4.1), kid names the tool key."""
    key = signing_key(session, settings)
    now = int(time.time())
    claims = {"iss": platform.client_id, "sub": platform.client_id, "aud": platform.token_url, "iat": now,
              "exp": now + ASSERTION_LIFETIME_S, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, key.private_pem, algorithm=SIGNING_ALGORITHM, headers={"kid": key.kid})


@dataclass
class AccessTokens:
    """Hands out a valid token per platform and scope set, asking the platform only when none is cached."""

    settings: Settings
    store: TokenStore
    client: httpx.Client

    def token(self, session: Session, platform: LtiPlatform, scopes: list[str], *,
              refused: str | None = None) -> str:
        """refused is a token the platform just answered 401 to: it is dropped and a fresh one fetched."""
        key = _cache_key(platform, scopes)
        if refused is not None:
            self.store.drop_if(key, refused)
        cached = self.store.get(key)
        if cached:
            return cached
        with self.store.lock(key):
            cached = self.store.get(key)
            if cached:
                return cached
            token, expires_in = self._request(session, platform, scopes)
            self.store.put(key, token, max(expires_in - self.settings.lti_token_margin_s, 1.0))
            return token

    def _request(self, session: Session, platform: LtiPlatform, scopes: list[str]) -> tuple[str, float]:
        form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": client_assertion(session, self.settings, platform), "scope": " ".join(scopes)}
        try:
            response = self.client.post(platform.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise TokenRequestFailed(f"token request failed: {type(exc).__name__}: {exc}"[:500], status_code=None,
                                     retryable=True) from exc
        if response.status_code != 200:
            raise _refusal(response)
        try:
            answer = response.json()
            return str(answer["access_token"]), float(answer.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenRequestFailed("the token endpoint answered 200 without an access_token", status_code=200,
                                     retryable=False) from exc


def _refusal(response: httpx.Response) -> TokenRequestFailed:
    code = response.status_code
    waits = rate_limited(response)
    message = f"the token endpoint answered HTTP {code}: {platform_message(response)}"
    return TokenRequestFailed(message, status_code=code, retryable=waits or code >= 500,
                              retry_after_s=retry_after_s(response) if waits else None)


def _cache_key(platform: LtiPlatform, scopes: list[str]) -> str:
    digest = hashlib.sha256(" ".join(sorted(scopes)).encode()).hexdigest()[:16]
    return f"grader:lti:ags-token:{platform.id}:{digest}"
