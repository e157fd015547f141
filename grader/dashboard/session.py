"""The signed session cookie and CSRF tokens: the cookie names a token by id, never carries the token itself."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from fastapi import Response

from grader.config import Settings

COOKIE_PATH = "/dashboard"
SESSION_COOKIE = "grader_dashboard"
LOGIN_CSRF_COOKIE = "grader_dashboard_login"
LOGIN_CSRF_MAX_AGE_S = 3600
KEY_CONTEXT = b"tinytorch-grader dashboard session v1"
HOME = "/dashboard"


@dataclass(frozen=True)
class SessionData:
    """What the cookie says: which token signed in, for which course, until when, and its CSRF token."""

    token_id: str
    course: str
    expires: int
    csrf: str


def signing_key(settings: Settings) -> bytes:
    """The explicit dashboard secret, else a key derived from the passback secret (never the secret itself)."""
    base = settings.dashboard_secret or settings.passback_secret
    return hmac.new(base.encode("utf-8"), KEY_CONTEXT, hashlib.sha256).digest()


def _sign(key: bytes, payload: bytes) -> str:
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    encode = base64.urlsafe_b64encode
    return f"{encode(payload).decode().rstrip('=')}.{encode(mac).decode().rstrip('=')}"


def _unsign(key: bytes, value: str) -> bytes | None:
    """The payload of a value this key signed, or None for anything else (tampered, truncated, garbage)."""
    try:
        body, mac = value.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
    except (ValueError, TypeError):
        return None
    expected = hmac.new(key, payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(expected, given) else None


def encode_session(settings: Settings, data: SessionData) -> str:
    return _sign(signing_key(settings), json.dumps(asdict(data), sort_keys=True).encode())


def decode_session(settings: Settings, value: str | None, *, now: float | None = None) -> SessionData | None:
    """A live session from the cookie, or None when it is missing, forged or expired."""
    payload = _unsign(signing_key(settings), value or "")
    if payload is None:
        return None
    try:
        data = SessionData(**json.loads(payload))
    except (ValueError, TypeError):
        return None
    return data if data.expires > (now if now is not None else time.time()) else None


def new_session(settings: Settings, *, token_id: str, course: str) -> SessionData:
    lifetime = int(settings.dashboard_session_hours * 3600)
    return SessionData(token_id=token_id, course=course, expires=int(time.time()) + lifetime,
                       csrf=secrets.token_urlsafe(32))


def _cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, secure=settings.dashboard_cookie_secure,
                        httponly=True, samesite="strict")


def set_session_cookie(response: Response, settings: Settings, data: SessionData) -> None:
    _cookie(response, settings, SESSION_COOKIE, encode_session(settings, data),
            max(1, data.expires - int(time.time())))


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, secure=settings.dashboard_cookie_secure, httponly=True,
                           samesite="strict")


def login_csrf(settings: Settings, cookie: str | None) -> tuple[str, str]:
    """(token for the form, signed cookie value): before sign-in the form is bound to a cookie, double-submit."""
    key = signing_key(settings)
    payload = _unsign(key, cookie or "")
    token = payload.decode() if payload else secrets.token_urlsafe(32)
    return token, _sign(key, token.encode())


def set_login_csrf_cookie(response: Response, settings: Settings, value: str) -> None:
    _cookie(response, settings, LOGIN_CSRF_COOKIE, value, LOGIN_CSRF_MAX_AGE_S)


def login_csrf_ok(settings: Settings, cookie: str | None, submitted: str) -> bool:
    payload = _unsign(signing_key(settings), cookie or "")
    if not payload or not submitted:
        return False
    return hmac.compare_digest(payload, submitted.encode())


def csrf_ok(expected: str, submitted: str) -> bool:
    return bool(expected and submitted) and hmac.compare_digest(expected.encode(), submitted.encode())


def safe_next(target: str | None) -> str:
    """Only a local dashboard path may be a redirect target; anything else (//host, https:, \\) goes home."""
    if not target or any(ch in target for ch in "\\\r\n\t") or not target.isprintable():
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == HOME or parts.path.startswith(HOME + "/")):
        return HOME
    if ".." in parts.path.split("/") or parts.path.startswith(HOME + "/login"):
        return HOME
    return target
