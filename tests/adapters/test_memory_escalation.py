"""Escalation is atomic in memory too: the races SQLite and PostgreSQL run, on MemoryDatabase.

The store's one lock must make each escalation's read-choose-assign indivisible,
as SQLite's write lock does, for a library user serving from memory.
"""

from __future__ import annotations

import pytest

from adapters.memory import MemoryDatabase
from support.races import CapacityRaces, OneConversationRaces


class MemoryStore:
    @pytest.fixture
    def database(self) -> MemoryDatabase:
        return MemoryDatabase()


class TestOneConversation(MemoryStore, OneConversationRaces):
    pass


class TestCapacity(MemoryStore, CapacityRaces):
    pass
