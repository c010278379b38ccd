"""One transaction over the in-memory tables, with the repositories bound to it.

Every unit, read or write, holds the store's one lock from ``__enter__`` to
``__exit__``: units are serial, so a write unit's half-done changes are never
seen, and a reader sees one consistent state. (SQLite's readers do not wait for
its writer; here a unit costs microseconds, and one lock keeps the store
obviously right.) The lock is kept past ``commit()`` on purpose, as in SQLite:
the use cases publish between commit and exit, so events leave in commit order.

A unit waits for the lock ``patience`` seconds at most, then answers "busy, try
again" (StorageUnavailable) rather than queue without end.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from adapters.memory.access import Access, Phase
from adapters.memory.agents import MemoryAgentRepository
from adapters.memory.conversations import MemoryConversationRepository
from adapters.memory.faqs import MemoryFaqRepository
from adapters.memory.instances import MemoryInstanceRepository
from adapters.memory.messages import MemoryMessageRepository
from adapters.memory.tables import Tables
from adapters.memory.tokens_sessions import (
    MemoryAccessTokenRepository,
    MemoryCustomerSessionRepository,
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

BUSY = "The store is busy; try again."


class StoreLock:
    """A plain lock that refuses re-entry from its own thread instead of deadlocking."""

    def __init__(self, patience: float | None) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self.patience = patience

    def acquire(self) -> bool:
        """Wait ``patience`` seconds at most; False if the lock did not come."""
        if self._owner == threading.get_ident():
            raise RuntimeError("a unit of work is already open on this thread; units do not nest")
        if not self._lock.acquire(timeout=-1 if self.patience is None else self.patience):
            return False
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        self._owner = None
        self._lock.release()


class MemoryUnitOfWork:
    """A chatcore UnitOfWork. Leaving the block without commit() undoes every change."""

    def __init__(self, tables: Tables, *, lock: StoreLock, write: bool) -> None:
        self._lock = lock
        self._access = Access(tables, write=write)
        self.conversations: ConversationRepository = MemoryConversationRepository(self._access)
        self.messages: MessageRepository = MemoryMessageRepository(self._access)
        self.agents: AgentRepository = MemoryAgentRepository(self._access)
        self.faqs: FaqRepository = MemoryFaqRepository(self._access)
        self.sessions: CustomerSessionRepository = MemoryCustomerSessionRepository(self._access)
        self.tokens: AccessTokenRepository = MemoryAccessTokenRepository(self._access)
        self.instances: ServerInstanceRepository = MemoryInstanceRepository(self._access)

    @property
    def write(self) -> bool:
        return self._access.write

    def __enter__(self) -> Self:
        if self._access.phase is not Phase.READY:
            raise RuntimeError("a unit of work is entered once")
        if not self._lock.acquire():
            raise StorageUnavailable(BUSY)
        self._access.phase = Phase.OPEN
        return self

    def commit(self) -> None:
        if self._access.phase is not Phase.OPEN:
            raise RuntimeError("nothing to commit: the unit is not open, or already committed")
        self._access.journal.forget()
        self._access.phase = Phase.COMMITTED

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._access.journal.rollback()  # nothing left to undo once committed
        finally:
            self._access.phase = Phase.LEFT
            self._lock.release()
