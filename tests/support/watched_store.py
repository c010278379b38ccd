"""The memory store as the domain tests drive it: the real adapter, watched at its commits.

``WatchedStore`` is the UnitOfWorkFactory the use cases get. It counts commits,
can make the next one fail (as a database that gives up at COMMIT), and knows
whether the open write unit has committed, so the publisher can check that no
event leaves before what it reports is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Self

from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.memory.tables import Tables
from chatcore.bot import FaqEntry


class CommitFailed(Exception):
    """Injected by a test: the storage gave up at commit time."""


class WatchedUnit:
    """A memory unit of work whose commit the store sees (and may refuse)."""

    def __init__(self, store: WatchedStore, unit: MemoryUnitOfWork) -> None:
        self._store = store
        self._unit = unit
        self.write = unit.write
        self.committed = False
        self.conversations = unit.conversations
        self.messages = unit.messages
        self.agents = unit.agents
        self.faqs = unit.faqs
        self.sessions = unit.sessions
        self.tokens = unit.tokens
        self.instances = unit.instances

    def __enter__(self) -> Self:
        self._unit.__enter__()
        if self.write:
            self._store.writer = self
        return self

    def commit(self) -> None:
        if self._store.fail_next_commit:
            self._store.fail_next_commit = False
            raise CommitFailed()  # before the store's commit: leaving the block rolls back
        self._unit.commit()
        self._store.commits += 1
        self.committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._store.writer is self:
            self._store.writer = None
        self._unit.__exit__(exc_type, exc, tb)


class WatchedStore:
    def __init__(self, *, faqs: Sequence[FaqEntry] = ()) -> None:
        self.memory = MemoryDatabase(faqs=faqs)
        self.commits = 0
        self.fail_next_commit = False
        self.writer: WatchedUnit | None = None

    def __call__(self, *, write: bool = True) -> WatchedUnit:
        return WatchedUnit(self, self.memory.uow(write=write))

    @property
    def tables(self) -> Tables:
        """What is committed (read it between use cases, not inside a unit)."""
        return self.memory.tables
