"""Escalation is atomic in memory too: SQLite's race tests, on MemoryDatabase.

The store's one lock must make each escalation's read-choose-assign indivisible,
as SQLite's write lock does, for a library user serving from memory.
"""

from __future__ import annotations

import pytest
import test_sqlite_escalation as on_sqlite

from adapters.memory import MemoryDatabase


class MemoryStore:
    @pytest.fixture
    def database(self) -> MemoryDatabase:
        return MemoryDatabase()


class TestOneConversation(MemoryStore, on_sqlite.TestOneConversation):
    pass


class TestCapacity(MemoryStore, on_sqlite.TestCapacity):
    pass
