"""A Postgres connection made by the grader drops a silent peer in bounded time, on the server's side too: a worker
host cut off mid-transaction must not hold its row locks for hours."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from grader.db import PEER_TIMEOUT_S, make_engine
from tests.conftest import create_postgres_database, drop_postgres_database


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    url = create_postgres_database(postgres_server_url)
    yield url
    drop_postgres_database(postgres_server_url, url)


def test_the_server_side_of_every_connection_has_peer_timeouts(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            shown = {name: connection.execute(text(f"SHOW {name}")).scalar_one()
                     for name in ("tcp_user_timeout", "tcp_keepalives_idle", "tcp_keepalives_count")}
    finally:
        engine.dispose()
    assert shown == {"tcp_user_timeout": str(PEER_TIMEOUT_S * 1000), "tcp_keepalives_idle": "10",
                     "tcp_keepalives_count": "4"}


def test_options_in_the_url_are_kept(postgres_url: str) -> None:
    engine = make_engine(f"{postgres_url}?options=-c%20statement_timeout%3D7s")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "7s"
    finally:
        engine.dispose()
