"""One transaction over one connection, with the repositories bound to it.

A write unit holds the process-wide write lock from ``__enter__`` to ``__exit__``
and runs ``BEGIN IMMEDIATE``: writers are serialized inside the process by the
lock and against other processes (the CLI) by SQLite, with the busy timeout.
The lock is kept past ``commit()`` on purpose: the use cases publish events
between commit and exit, so events leave in commit order.

A unit waits for the process's lock no longer than the busy timeout either, then
answers "busy, try again" (StorageUnavailable, a 503). Without that bound, while
another process held SQLite's lock, the writers queued here each waited their
predecessor's busy timeout and then their own: the eighth of eight concurrent
POSTs was answered after eight timeouts (tests/faults/test_sqlite_busy.py).

A read unit runs ``BEGIN`` on its thread's own connection: a consistent
snapshot that, in WAL mode, neither waits for writers nor holds them up.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import sqlite_utils

from adapters.sqlite.agents import SqliteAgentRepository
from adapters.sqlite.conversations import SqliteConversationRepository
from adapters.sqlite.faqs import SqliteFaqRepository
from adapters.sqlite.instances import SqliteInstanceRepository
from adapters.sqlite.messages import SqliteMessageRepository
from adapters.sqlite.tokens_sessions import (
    SqliteAccessTokenRepository,
    SqliteCustomerSessionRepository,
)
from chatcore.ports import (
    AccessTokenRepository,
    AgentRepository,
    ConversationRepository,
    CustomerSessionRepository,
    FaqRepository,
    MessageRepository,
    ServerInstanceRepository,
    StorageUnavailable,
)

BUSY = "The database is busy; try again."


@contextmanager
def busy_means_unavailable() -> Iterator[None]:
    """SQLite gave up waiting for another process's lock: a 503 to retry, not a 500."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StorageUnavailable(BUSY) from exc
        raise


class WriteLock:
    """A plain lock that refuses re-entry from its own thread instead of deadlocking.

    ``patience``: how long a unit of work waits for it (None: as long as it takes).
    """

    def __init__(self, patience: float | None = None) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self.patience = patience

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for the lock (``timeout`` seconds at most); False if it did not come."""
        if self._owner == threading.get_ident():
            raise RuntimeError("a write unit is already open on this thread; units do not nest")
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class SqliteUnitOfWork:
    """A chatcore UnitOfWork. Leaving the block without commit() rolls back."""

    def __init__(self, db: sqlite_utils.Database, *, write_lock: WriteLock | None) -> None:
        self.db = db  # for tests and tools; the use cases only see the repositories
        self._write_lock = write_lock
        self.conversations: ConversationRepository = SqliteConversationRepository(db)
        self.messages: MessageRepository = SqliteMessageRepository(db)
        self.agents: AgentRepository = SqliteAgentRepository(db)
        self.faqs: FaqRepository = SqliteFaqRepository(db)
        self.sessions: CustomerSessionRepository = SqliteCustomerSessionRepository(db)
        self.tokens: AccessTokenRepository = SqliteAccessTokenRepository(db)
        self.instances: ServerInstanceRepository = SqliteInstanceRepository(db)

    def __enter__(self) -> Self:
        if self._write_lock is None:
            if self.db.conn.in_transaction:
                raise RuntimeError("a read unit is already open on this thread; units do not nest")
            self.db.execute("BEGIN")
            return self
        if not self._write_lock.acquire(self._write_lock.patience):
            raise StorageUnavailable(BUSY)
        try:
            with busy_means_unavailable():
                self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._write_lock.release()
            raise
        return self

    def commit(self) -> None:
        if not self.db.conn.in_transaction:
            raise RuntimeError("nothing to commit: the unit is not open, or already committed")
        with busy_means_unavailable():
            self.db.execute("COMMIT")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
