"""SqliteDatabase: the file, its connections, and units of work over them.

Why the event loop stays free: the use cases are synchronous and the HTTP and
realtime adapters run each one in a worker thread (anyio). Inside a thread,
sqlite3 releases the GIL while SQLite works or waits, so a slow query, a writer
queueing on the write lock, or a busy wait for another process only holds up
its own worker, never the loop serving everyone else. Readers never queue at
all: WAL gives each read unit a snapshot on its thread's own connection.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import TYPE_CHECKING

from adapters.sqlite import connections
from adapters.sqlite.connections import Handle, ReaderPool, open_handle
from adapters.sqlite.migrations import migrate, schema_version
from adapters.sqlite.unit_of_work import SqliteUnitOfWork, WriteLock

if TYPE_CHECKING:
    from chatcore.ports import UnitOfWorkFactory


OWNER_ONLY = 0o600
_COMPANIONS = ("", "-wal", "-shm")


def keep_to_owner(path: str) -> None:
    """Make ``path`` (if new) and its WAL files readable by their owner only.

    They hold session ids, password hashes and every message. SQLite gives the
    -wal and -shm it creates the mode of the database file, so a database file
    made 0600 before the first connection keeps all three private; files left
    by an older version are narrowed here too.
    """
    if path in ("", ":memory:"):
        return  # no file: SQLite keeps it in memory (and WAL refuses it anyway)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, OWNER_ONLY)
    os.close(descriptor)
    for suffix in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):  # -wal and -shm come and go
            os.chmod(path + suffix, OWNER_ONLY)


class SqliteDatabase:
    """Opens (WAL, foreign keys, busy timeout) and migrates ``path`` forward."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        keep_to_owner(self.path)
        # A unit waits for this process's other writers as long as for another process's.
        self._write_lock = WriteLock(patience=connections.BUSY_TIMEOUT_MS / 1000)
        self._writer: Handle = open_handle(self.path)
        self._readers = ReaderPool(self.path)
        self._closed = False
        try:
            with self._write_lock:
                migrate(self._writer.db)
        except BaseException:
            self.close()
            raise

    def uow(self, *, write: bool = True) -> SqliteUnitOfWork:
        """A unit of work: ``write`` serializes with every writer, a read unit blocks none."""
        if self._closed:
            raise sqlite3.ProgrammingError("the database is closed")
        if write:
            return SqliteUnitOfWork(self._writer.db, write_lock=self._write_lock)
        return SqliteUnitOfWork(self._readers.current().db, write_lock=None)

    @property
    def schema_version(self) -> int:
        with self.uow(write=False) as uow:
            return schema_version(uow.db)

    def ping(self) -> bool:
        """True while the storage answers a query (for readiness checks)."""
        try:
            with self.uow(write=False) as uow:
                uow.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        """Close every connection; waits for a write unit in progress. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with self._write_lock:
            self._writer.close()
        self._readers.close()


if TYPE_CHECKING:
    # mypy proves here that SqliteDatabase.uow is what the use cases expect.
    def _conforms(database: SqliteDatabase) -> UnitOfWorkFactory:
        return database.uow
