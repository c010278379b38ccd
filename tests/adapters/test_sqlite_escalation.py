"""Escalation is atomic on SQLite: the real use cases, many threads, one database file.

The threads stand in for the server's worker pool: every escalate call is a
write unit, and the write lock plus BEGIN IMMEDIATE must make the
read-choose-assign sequence of each one indivisible.
"""

from __future__ import annotations

from support.races import CapacityRaces, OneConversationRaces
from support.sqlite import SqliteFixtures


class TestOneConversation(SqliteFixtures, OneConversationRaces):
    pass


class TestCapacity(SqliteFixtures, CapacityRaces):
    pass
