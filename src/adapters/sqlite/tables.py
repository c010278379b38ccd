"""Small SQL helpers shared by the repositories.

sqlite-utils builds the schema (migrations); the repositories read and write
through these instead, because its ``Table`` pays on every call for things the
hot path does not need: ``insert``, ``rows_where`` and ``delete_where`` each list
every table name first (to create a missing table, or to return nothing from
one), ``update`` re-reads the row and the schema, and ``Database.query`` wraps
every statement in a savepoint. The profile of a posted message showed them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table


def table(db: sqlite_utils.Database, name: str) -> Table:
    # Built directly: ``db.table(name)`` asks sqlite_master whether ``name`` is a view.
    return Table(db, name)


class Rows:
    """One table's rows, read and deleted with plain SQL: sqlite-utils' ``rows_where``
    and ``delete_where`` without their per-call schema lookups."""

    def __init__(self, db: sqlite_utils.Database, name: str) -> None:
        self._db = db
        self._name = name

    def where(
        self,
        where: str | None = None,
        params: Sequence[Any] = (),
        *,
        order_by: str | None = None,
        limit: int | None = None,
        select_sql: str = "*",
    ) -> list[dict[str, Any]]:
        sql = f'SELECT {select_sql} FROM "{self._name}"'
        if where is not None:
            sql += f" WHERE {where}"
        if order_by is not None:
            sql += f" ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return select(self._db, sql, params)

    def delete_where(self, where: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(f'DELETE FROM "{self._name}" WHERE {where}', params)

    def count(self) -> int:
        return int(self._db.execute(f'SELECT count(*) FROM "{self._name}"').fetchone()[0])

    def insert(self, row: Mapping[str, Any]) -> None:
        insert_row(self._db, self._name, row)


def select(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def insert_row(db: sqlite_utils.Database, table_name: str, row: Mapping[str, Any]) -> None:
    """One plain INSERT; a broken uniqueness rule raises IntegrityError, never silenced."""
    columns = ", ".join(f'"{column}"' for column in row)
    values = ", ".join(f":{column}" for column in row)
    db.execute(f'INSERT INTO "{table_name}" ({columns}) VALUES ({values})', dict(row))


def update_row(
    db: sqlite_utils.Database, table_name: str, row: Mapping[str, Any], *, key: str = "id"
) -> None:
    """Write every column of ``row`` over the stored row with the same key.

    Saving what was never added is a bug in the caller: it raises LookupError.
    """
    assignments = ", ".join(f'"{column}" = :{column}' for column in row if column != key)
    cursor = db.execute(
        f'UPDATE "{table_name}" SET {assignments} WHERE "{key}" = :{key}', dict(row)
    )
    if cursor.rowcount != 1:
        raise LookupError(f"no {table_name} row {row[key]!r} to save")
