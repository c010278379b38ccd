"""What a unit of work lets its repositories touch, and when."""

from __future__ import annotations

from enum import Enum

from adapters.memory.tables import Journal, Tables


class Phase(Enum):
    READY = "ready"  # made, not entered yet
    OPEN = "open"
    COMMITTED = "committed"  # still held (the events go out now), but done writing
    LEFT = "left"


class Access:
    """The tables for reading; for writing, the tables and the journal that can undo it."""

    def __init__(self, tables: Tables, *, write: bool) -> None:
        self._tables = tables
        self.write = write
        self.journal = Journal()
        self.phase = Phase.READY

    def read(self) -> Tables:
        if self.phase not in (Phase.OPEN, Phase.COMMITTED):
            raise RuntimeError("the unit of work is used outside its with-block")
        return self._tables

    def change(self) -> tuple[Tables, Journal]:
        if not self.write:
            # SQLite's readers are query_only: a read unit that writes is a bug, loudly.
            raise RuntimeError("a read unit of work must not write")
        if self.phase is not Phase.OPEN:
            raise RuntimeError("the unit of work is not open for writing (never entered, or done)")
        return self._tables, self.journal
