"""The connection pool, and the one place that turns a failing server into StorageUnavailable.

Every pooled connection runs in autocommit mode at the driver level: the unit of
work issues BEGIN, COMMIT and ROLLBACK itself (as the SQLite adapter does), so
nothing opens or ends a transaction behind its back.

When the server goes away (a restart, a crash, a network cut) two things matter,
and ``Connections`` sees to both (tests/faults/test_postgres_restart.py):

- Requests are answered 503 at once, not after the 5 s a request may wait for a
  connection. Once a pooled connection failed its check or died under a statement,
  the server counts as down, and units wait at most ``WAIT_WHILE_DOWN_SECONDS``
  until one succeeds again. Waiting the full 5 s in every request held each of the
  8 worker threads that long, so requests queued behind one another: a dozen at
  once took over 8 s each.
- The pool reconnects within seconds of the server's return. psycopg_pool retries
  a lost connection with a backoff that doubles up to ``reconnect_timeout``
  (5 minutes by default): after a minute's outage the next try could be a minute
  away. Here a retry chain gives up after ``RECONNECT_SECONDS`` and the next
  request starts a fresh one, so tries are never more than a couple of seconds apart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from chatcore.ports import StorageUnavailable

log = logging.getLogger("chatcore.postgres")

Connection = psycopg.Connection[DictRow]

# The server runs use cases on 8 worker threads plus 4 for password hashing
# (adapters/threads.py); a few more cover the presence timers and the readiness probe.
POOL_MIN = 1
POOL_MAX = 16
# How long a unit waits for a free connection, or a statement for a row lock, before
# answering "try again" (503): the same patience as SQLite's busy timeout.
WAIT_SECONDS = 5.0
CONNECT_SECONDS = 5
# While the server is known to be down: how long a unit waits for a connection.
WAIT_WHILE_DOWN_SECONDS = 0.5
# How long the pool keeps retrying one lost connection before it gives up (and the
# next request that finds no connection starts over with a short delay).
RECONNECT_SECONDS = 5.0


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


class Connections:
    """The pool, and whether the server answered lately (see the module's docstring)."""

    def __init__(self, url: str) -> None:
        self._guard = threading.Lock()
        self._down_since: float | None = None
        self.pool = open_pool(url, check=self._check)

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def acquire(self) -> Connection:
        """A connection for one unit: StorageUnavailable if none comes in time."""
        down = self.down
        try:
            return self.pool.getconn(WAIT_WHILE_DOWN_SECONDS if down else WAIT_SECONDS)
        except PoolTimeout as exc:
            if down:
                raise StorageUnavailable("The database is unreachable; try again.") from exc
            raise StorageUnavailable("No database connection is free; try again.") from exc

    def release(self, conn: Connection) -> None:
        self.pool.putconn(conn)

    def answered(self) -> None:
        """A statement worked: the server is up."""
        if self._down_since is None:
            return
        with self._guard:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.warning("PostgreSQL answers again, after %.1f s", time.monotonic() - since)

    def failed(self, conn: Connection) -> None:
        """A statement failed: if it killed the connection, the server is taken for down."""
        if conn.closed or conn.broken:
            self._lost("a connection died under a statement")

    def close(self) -> None:
        self.pool.close()

    def _check(self, conn: Connection) -> None:
        # On checkout, as ConnectionPool.check_connection: a pooled connection that
        # died while idle is replaced rather than given to a unit, and it tells us.
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            self._lost("a pooled connection was found dead")
            raise

    def _lost(self, why: str) -> None:
        with self._guard:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
        log.warning("PostgreSQL does not answer (%s): requests get 503 at once until it does", why)


def open_pool(
    url: str, *, check: Callable[[Connection], None] = ConnectionPool.check_connection
) -> ConnectionPool[Connection]:
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
        check=check,
        reconnect_timeout=RECONNECT_SECONDS,
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
