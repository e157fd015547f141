"""Engine and unit-of-work sessions: services flush, the caller's session_scope commits once."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

PEER_TIMEOUT_S = 30
# Both ends of a Postgres connection drop it once the other has been silent for PEER_TIMEOUT_S: keepalives when it
# is idle, tcp_user_timeout when data goes unacknowledged. A worker host cut off the network in the middle of a
# store would otherwise keep its row locks on the server for the kernel's default of hours, and the sweeper,
# which skips locked rows, could not re-send its run past the lease. The libpq keys set the client's socket; the
# `options` set the server's side of the same connection.
PEER_TIMEOUTS: dict[str, Any] = {
    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 4,
    "tcp_user_timeout": PEER_TIMEOUT_S * 1000,
    "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=4 "
               f"-c tcp_user_timeout={PEER_TIMEOUT_S * 1000}",
}


def make_engine(url: str) -> Engine:
    """Pooled engine; SQLite gets foreign keys and WAL so readers never block the grader."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    timeouts = dict(PEER_TIMEOUTS)
    if "options" in make_url(url).query:  # the URL's own server options win; the libpq keys still apply
        del timeouts["options"]
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=timeouts)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
