"""MemoryDatabase: chatcore's storage in this process's memory, for a library user or a test.

Nothing survives the process. Everything else is as with SQLite: the same
ports, transactions that roll back on an exception or without commit(), the
same keys refused (IntegrityError here), the same listing order and cursors;
``tests/adapters/test_memory_storage.py`` holds it to the same storage contract.
Safe to share between threads: every unit of work holds the store's one lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy
from typing import TYPE_CHECKING

from adapters.memory.tables import Tables
from adapters.memory.unit_of_work import MemoryUnitOfWork, StoreLock
from chatcore.bot import FaqEntry

if TYPE_CHECKING:
    from chatcore.ports import UnitOfWorkFactory

# As long as a SQLite unit waits for another writer (its busy timeout).
PATIENCE_SECONDS = 5.0


class MemoryDatabase:
    """An empty store, but for the quick questions given (a SQLite file starts with defaults)."""

    def __init__(
        self, *, faqs: Iterable[FaqEntry] = (), patience: float | None = PATIENCE_SECONDS
    ) -> None:
        self._lock = StoreLock(patience)
        self._tables = Tables()
        for entry in faqs:
            self._tables.faqs[entry.slug] = copy(entry)

    def uow(self, *, write: bool = True) -> MemoryUnitOfWork:
        """A unit of work; read or write, it holds the store's lock while open."""
        return MemoryUnitOfWork(self._tables, lock=self._lock, write=write)

    @property
    def tables(self) -> Tables:
        """The rows themselves, for tests and tools: not a copy, and read outside any unit.

        What is committed, whenever no write unit is open.
        """
        return self._tables

    def ping(self) -> bool:
        """True: memory always answers (for readiness checks, like the databases' ping)."""
        return True

    def close(self) -> None:
        """Nothing to let go of; here so the store can stand wherever a database is closed."""


if TYPE_CHECKING:
    # mypy proves here that MemoryDatabase.uow is what the use cases expect.
    def _conforms(database: MemoryDatabase) -> UnitOfWorkFactory:
        return database.uow
