"""Platform signing keys: each platform's JWKS, cached, and fetched again once when a launch names a new kid."""

import threading
from dataclasses import dataclass, field

import jwt
from jwt import PyJWK, PyJWKClient

from grader.config import Settings
from grader.user_agent import user_agent


@dataclass
class PlatformKeys:
    """One JWKS client per platform JWKS URL, shared by the requests of one API process.

    PyJWKClient keeps the set for `lifespan` seconds and, for a kid it does not hold, refetches once (at most
    once per cooldown, so forged kids cannot make us hammer the platform): that is how a rotation is seen.
    """

    lifespan_s: float
    cooldown_s: float
    timeout_s: float = 10.0
    _clients: dict[str, PyJWKClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> "PlatformKeys":
        return cls(lifespan_s=settings.lti_jwks_lifespan_s, cooldown_s=settings.lti_jwks_cooldown_s,
                   timeout_s=settings.passback_timeout_s)

    def signing_key(self, jwks_url: str, kid: str) -> PyJWK:
        """Raises jwt.PyJWKClientError when the platform does not publish that kid, even after a refetch."""
        return self._client(jwks_url).get_signing_key(kid)

    def _client(self, jwks_url: str) -> PyJWKClient:
        with self._lock:
            client = self._clients.get(jwks_url)
            if client is None:
                client = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=self.lifespan_s,
                                         timeout=self.timeout_s, cooldown_duration=self.cooldown_s,
                                         headers={"User-Agent": user_agent("lti")})
                self._clients[jwks_url] = client
            return client
