"""The connection pool, and the one place that turns a failing server into StorageUnavailable.

Every pooled connection runs in autocommit mode at the driver level: the unit of
work issues BEGIN, COMMIT and ROLLBACK itself (as the SQLite adapter does), so
nothing opens or ends a transaction behind its back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from chatcore.ports import StorageUnavailable

Connection = psycopg.Connection[DictRow]

# The server runs use cases on 8 worker threads plus 4 for password hashing
# (adapters/threads.py); a few more cover the presence timers and the readiness probe.
POOL_MIN = 1
POOL_MAX = 16
# How long a unit waits for a free connection, or a statement for a row lock, before
# answering "try again" (503): the same patience as SQLite's busy timeout.
WAIT_SECONDS = 5.0
CONNECT_SECONDS = 5


@contextmanager
def unavailable_on_failure() -> Iterator[None]:
    """Lost connection, pool exhausted, lock wait or deadlock: a 503 to retry, not a 500.

    psycopg files every one of these under OperationalError (deadlock_detected and
    lock_not_available included); constraint violations are IntegrityError and pass.
    """
    try:
        yield
    except PoolTimeout as exc:
        raise StorageUnavailable("No database connection is free; try again.") from exc
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(f"The database did not answer: {exc}".strip()) from exc


def _configure(conn: Connection) -> None:
    # UTC: timestamptz values come back in the session's zone; the domain wants UTC.
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute(f"SET lock_timeout = '{int(WAIT_SECONDS * 1000)}ms'")
    # A unit left open by a crashed worker must not hold its row locks for ever.
    conn.execute("SET idle_in_transaction_session_timeout = '60s'")


def open_pool(url: str) -> ConnectionPool[Connection]:
    """A pool that has proved it can connect: an unreachable server fails here, clearly."""
    kwargs: dict[str, Any] = {
        "autocommit": True,
        "row_factory": dict_row,
        "connect_timeout": CONNECT_SECONDS,
    }
    pool: ConnectionPool[Connection] = ConnectionPool(
        url,
        connection_class=psycopg.Connection[DictRow],
        kwargs=kwargs,
        min_size=POOL_MIN,
        max_size=POOL_MAX,
        timeout=WAIT_SECONDS,
        configure=_configure,
        # A connection that died while idle (server restart) is replaced on checkout
        # instead of failing the next request.
        check=ConnectionPool.check_connection,
        name="chatcore",
        open=False,
    )
    try:
        pool.open(wait=True, timeout=CONNECT_SECONDS + 1)
    except PoolTimeout as exc:
        pool.close()
        raise StorageUnavailable(f"Cannot connect to PostgreSQL at {_redacted(url)}.") from exc
    return pool


def _redacted(url: str) -> str:
    """The URL without its password, fit for an error message."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the configured URL"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}"
