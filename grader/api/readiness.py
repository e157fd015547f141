"""Readiness probes: can this process reach its database and its broker right now."""

import redis
from kombu import Connection
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

PROBE_TIMEOUT_S = 2.0


def database_problem(factory: sessionmaker[Session]) -> str | None:
    """None when `SELECT 1` answers, else the error's type (never its text: it may carry the URL)."""
    try:
        with factory() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        return type(exc).__name__
    return None


def broker_problem(url: str) -> str | None:
    """A Redis PING, or an AMQP connection, within the probe timeout."""
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S)
            try:
                client.ping()
            finally:
                client.close()
        else:
            with Connection(url, connect_timeout=PROBE_TIMEOUT_S) as connection:
                connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return type(exc).__name__
    return None
