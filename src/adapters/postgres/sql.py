"""One open transaction as the repositories see it: statements, plus what it has locked.

The repositories of a unit share one ``Txn``. It runs every statement through
unavailable_on_failure, and remembers the locks the unit holds and the agent rows
it has read, which the lock rule in unit_of_work.py relies on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.postgres.connections import Connection, unavailable_on_failure

Params = Sequence[Any] | Mapping[str, Any]


# The first key of the two-key advisory locks that keep a conversation's events in
# commit order (two-key locks never collide with the one-key locks of migrations).
PUBLISH_ORDER = 0x63686F72  # "chor"


class Txn:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self.conn = conn
        self.write = write
        self.agents_locked = False
        # Conversations whose publish order this unit holds (see hold_publish_order).
        self.holds_publish_order = False
        # Agent rows as this unit read them, by id: save() writes only what changed
        # since, and only if nobody else changed it meanwhile (see agents.py).
        self.agents_read: dict[str, dict[str, Any]] = {}

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        with unavailable_on_failure():
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        with unavailable_on_failure():
            return self.conn.execute(sql, params).fetchone()

    def run(self, sql: str, params: Params = ()) -> int:
        """Execute; the number of rows it touched."""
        with unavailable_on_failure():
            return self.conn.execute(sql, params).rowcount

    def hold_publish_order(self, conversation_id: str) -> None:
        """Keep the conversation's next writer waiting until this unit has published.

        The row lock ends at COMMIT, but the events go out after it: without this, the
        next message's unit (on any instance) could commit and publish seq N+1 before
        this one publishes N, and every socket would see them out of order. A session
        advisory lock outlives the COMMIT; the unit lets it go when it is left, after
        the use case published. Taken before the row lock, by every writer alike.
        """
        if self.write:
            self.run("SELECT pg_advisory_lock(%s, hashtext(%s))", [PUBLISH_ORDER, conversation_id])
            self.holds_publish_order = True

    def lock_agents(self) -> None:
        """The sweep: every agent row, in id order, once per write unit (unit_of_work.py)."""
        if self.write and not self.agents_locked:
            self.run("SELECT id FROM agents ORDER BY id FOR NO KEY UPDATE")
            self.agents_locked = True

    @property
    def for_update(self) -> str:
        """The row lock a write unit takes on what it reads to change; none in a read unit.

        NO KEY UPDATE, not UPDATE: it excludes every other writer of the row just the
        same, but lets inserts that merely reference the row (a token of that agent, a
        message of that conversation) check their foreign key without waiting.
        """
        return " FOR NO KEY UPDATE" if self.write else ""

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """One plain INSERT; a broken uniqueness rule raises IntegrityError, never silenced."""
        columns = ", ".join(f'"{column}"' for column in row)
        values = ", ".join(f"%({column})s" for column in row)
        self.run(f'INSERT INTO "{table}" ({columns}) VALUES ({values})', row)

    def update(self, table: str, row: Mapping[str, Any], *, key: str = "id") -> None:
        """Write every column of ``row`` over the stored row; a missing row is LookupError."""
        assignments = ", ".join(f'"{column}" = %({column})s' for column in row if column != key)
        if self.run(f'UPDATE "{table}" SET {assignments} WHERE "{key}" = %({key})s', row) != 1:
            raise LookupError(f"no {table} row {row[key]!r} to save")
