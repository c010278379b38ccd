"""Opening SQLite connections the way chatcore needs them, and one reader per thread.

Every connection runs in autocommit mode at the driver level
(``isolation_level=None``): the unit of work issues BEGIN, COMMIT and ROLLBACK
itself, so nothing opens or ends a transaction behind its back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref

import sqlite_utils

BUSY_TIMEOUT_MS = 5000
READER_CACHE_KIB = 512


class Handle:
    """One connection and its sqlite-utils wrapper (weak-referenceable, unlike a Connection)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn, execute_plugins=False)

    def close(self) -> None:
        self.conn.close()


def open_handle(path: str, *, read_only: bool = False) -> Handle:
    """A connection with WAL, foreign keys and a busy timeout.

    ``check_same_thread=False``: the write connection is shared by the worker
    threads (the write lock serializes them), and close() may come from any thread.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        # First, so that even switching the journal mode waits for another process.
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise ValueError(f"{path!r} cannot use WAL (journal mode {mode!r}); use a file")
        conn.execute("PRAGMA foreign_keys = ON")
        # NORMAL is durable in WAL mode up to the last checkpointed commit, and much faster.
        conn.execute("PRAGMA synchronous = NORMAL")
        if read_only:
            # A read unit that tries to write is a bug: fail loudly instead of committing it.
            conn.execute("PRAGMA query_only = ON")
            # Every worker thread has a reader, each caching its own copy of pages the OS
            # already caches: at SQLite's default 2 MiB that was up to 64 MiB of resident
            # memory, ~6 KiB per socket when 10,000 widgets each read their conversation.
            conn.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
    except BaseException:
        conn.close()
        raise
    return Handle(conn)


class ReaderPool:
    """One read connection per thread, opened on first use.

    A reader lives exactly as long as its thread's local storage (the server's
    worker threads live as long as its pool; other callers' threads may not). The weak set only
    lets close() reach the readers still alive.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._local = threading.local()
        self._alive: weakref.WeakSet[Handle] = weakref.WeakSet()
        self._guard = threading.Lock()
        self._closed = False

    def current(self) -> Handle:
        handle: Handle | None = getattr(self._local, "handle", None)
        if handle is None:
            handle = open_handle(self._path, read_only=True)
            with self._guard:
                if self._closed:
                    handle.close()
                    raise sqlite3.ProgrammingError("the database is closed")
                self._alive.add(handle)
            self._local.handle = handle
        return handle

    def close(self) -> None:
        with self._guard:
            self._closed = True
            handles = list(self._alive)
        for handle in handles:
            handle.close()
