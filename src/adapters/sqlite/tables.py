"""Small SQL helpers shared by the repositories.

sqlite-utils' ``Table`` does the plain work (insert, rows_where, delete_where);
these cover the things it does at a cost the hot path should not pay: an
INSERT of one row (``Table.insert`` lists every table name first, to create the
table if it is missing), an UPDATE of one whole row (``Table.update`` re-reads
the row and the schema first), and a raw SELECT read into dicts
(``Database.query`` wraps every statement in a savepoint).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table


def table(db: sqlite_utils.Database, name: str) -> Table:
    # Built directly: ``db.table(name)`` asks sqlite_master whether ``name`` is a view.
    return Table(db, name)


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
