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


class Txn:
    def __init__(self, conn: Connection, *, write: bool) -> None:
        self.conn = conn
        self.write = write
        self.agents_locked = False
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
