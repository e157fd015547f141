"""Reading a platform's HTTP answers: whether it is throttling us, how long it asks us to wait, what it said."""

import email.utils
import json
from datetime import UTC, datetime

import httpx

RATE_LIMIT_HEADERS = ("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining", "retry-after",
                      "ratelimit-reset", "x-rate-limit-reset")
MAX_WAIT_S = 3600.0


def rate_limited(response: httpx.Response) -> bool:
    """429 always; a 403 only when it carries rate-limit headers (Canvas documents both for throttling)."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    remaining = (response.headers.get("x-rate-limit-remaining") or response.headers.get("ratelimit-remaining")
                 or response.headers.get("x-ratelimit-remaining"))
    if remaining is not None:
        try:
            return float(remaining) <= 0
        except ValueError:
            return True
    return any(name in response.headers for name in ("retry-after", "ratelimit-reset", "x-rate-limit-reset"))


def retry_after_s(response: httpx.Response) -> float | None:
    """Retry-After as seconds or an HTTP date, bounded; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when.astimezone(UTC) - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_WAIT_S)


def platform_message(response: httpx.Response, limit: int = 300) -> str:
    """The platform's own words (an error/message field, else the text), short enough for a dashboard."""
    text = response.text
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        for name in ("error_description", "message", "error", "errors", "reason"):
            if document.get(name):
                text = json.dumps(document[name]) if not isinstance(document[name], str) else document[name]
                break
    text = " ".join(text.split())
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty answer)")
