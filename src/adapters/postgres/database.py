"""PostgresDatabase: a connection pool, its migrations, and units of work over it.

Why psycopg 3's synchronous API (and not asyncpg): the use cases are synchronous
and the HTTP and realtime adapters already run each one in a worker thread, as
for SQLite. A blocking driver fits that as it is, and psycopg releases the GIL
while it waits on the network, so a slow query holds up only its own worker.
asyncpg would need an event loop inside every use case, or async ports throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from adapters.postgres.connections import Connections, unavailable_on_failure
from adapters.postgres.migrations import migrate, schema_version
from adapters.postgres.sql import Txn
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from chatcore.ports import StorageUnavailable

if TYPE_CHECKING:
    from chatcore.ports import UnitOfWorkFactory


class PostgresDatabase:
    """Connects to ``url`` (``postgresql://user:password@host:port/dbname``) and migrates it.

    Every instance sharing the database runs the same migrations at start-up; the
    first does the work, the others find it done (see migrations.py).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._connections = Connections(url)
        self._pool = self._connections.pool
        self._closed = False
        try:
            with unavailable_on_failure(), self._pool.connection() as conn:
                migrate(conn)
        except BaseException:
            self.close()
            raise

    def uow(self, *, write: bool = True) -> PostgresUnitOfWork:
        """A unit of work: ``write`` takes row locks as it goes, a read unit takes none."""
        if self._closed:
            raise psycopg.ProgrammingError("the database is closed")
        return PostgresUnitOfWork(self._connections, write=write)

    @property
    def schema_version(self) -> int:
        with self._pool.connection() as conn:
            return schema_version(Txn(conn, write=False))

    def ping(self) -> bool:
        """True while the storage answers a query (for readiness checks)."""
        try:
            with self.uow(write=False) as uow:
                uow.txn.one("SELECT 1")
        except (StorageUnavailable, psycopg.Error):
            return False
        return True

    def close(self) -> None:
        """Close the pool; waits for the connections in use to come back. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._connections.close()


if TYPE_CHECKING:
    # mypy proves here that PostgresDatabase.uow is what the use cases expect.
    def _conforms(database: PostgresDatabase) -> UnitOfWorkFactory:
        return database.uow
