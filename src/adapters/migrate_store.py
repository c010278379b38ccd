"""Copy a chatcore SQLite file into an empty PostgreSQL database, ids and ``seq`` intact.

The source is opened read-only and read in one snapshot, a batch of rows at a time;
each table is streamed into the target with COPY, all inside one target transaction:
the target ends up with everything or, on any failure, exactly as it was before.

Rows go through the domain entities (SQLite row → entity → PostgreSQL row), using
the mapping both adapters share (adapters/rowmap.py): no entity's columns are spelled
here, and each timestamp is converted by the codecs the adapters themselves store with.

Not copied: access tokens. A token row is only half a token; the other half is the
signature made with the key beside the SQLite file, and the PostgreSQL deployment
gets its key from CHATCORE_SECRET_KEY. Agents sign in again after the move.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import sqlite_utils
from psycopg import errors, sql

from adapters import rowmap
from adapters.postgres import PostgresDatabase, SchemaTooNew
from adapters.postgres import rows as target_rows
from adapters.postgres.connections import unavailable_on_failure
from adapters.postgres.sql import Txn
from adapters.sqlite import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION
from adapters.sqlite import rows as source_rows
from adapters.sqlite.connections import BUSY_TIMEOUT_MS
from adapters.sqlite.migrations import schema_version
from chatcore.default_faqs import DEFAULT_FAQS

# Rows held in memory at a time per table: a conversation with 100,000 messages is
# streamed through, never loaded whole.
BATCH_ROWS = 1000

# Every table chatcore writes (in the order a refusal names what it found).
TABLES = ("agents", "conversations", "messages", "customer_sessions", "faqs", "access_tokens")


class CopyRefused(Exception):
    """The copy cannot start, or the target refused it; nothing was written to the target."""


class SourceMissing(CopyRefused):
    """The SQLite file does not exist (it is never created: a typo must not copy nothing)."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    agents: int
    conversations: int
    messages: int
    faqs: int
    sessions: int


def _session(row: rowmap.Row) -> dict[str, Any]:
    # Sessions have no entity; only the timestamp changes form.
    return {
        "id": row["id"],
        "created_at": target_rows.to_db(source_rows.from_text(row["created_at"])),
    }


# Per table: how a SQLite row becomes a PostgreSQL row, through the entity both map.
# Copied in this order, parents first: each table's COPY checks its foreign keys when it
# ends, so a conversation's session and agents must be in by then.
_CONVERSIONS: dict[str, Callable[[rowmap.Row], Mapping[str, Any]]] = {
    "customer_sessions": _session,
    "agents": lambda row: target_rows.agent_row(source_rows.agent_from_row(row)),
    "conversations": lambda row: target_rows.conversation_row(
        source_rows.conversation_from_row(row)
    ),
    "messages": lambda row: target_rows.message_row(source_rows.message_from_row(row)),
    "faqs": lambda row: rowmap.faq_row(rowmap.faq_from_row(row)),
}


def copy_sqlite_to_postgres(
    source: str | os.PathLike[str], *, target_url: str, batch_rows: int = BATCH_ROWS
) -> CopyReport:
    """Copy every agent, session, conversation, message and quick question; the counts.

    Refuses (CopyRefused) a missing or non-chatcore source, and a target that holds
    anything but the default quick questions a fresh database is seeded with. Those
    defaults are replaced by the source's quick questions, exactly.
    """
    connection = _open_read_only(Path(source))
    try:
        try:
            database = PostgresDatabase(target_url)  # migrates: the tables exist from here on
        except SchemaTooNew as error:
            raise CopyRefused(f"The target was written by a newer chatcore: {error}.") from None
        try:
            return _copy(sqlite_utils.Database(connection), target=database, batch=batch_rows)
        finally:
            database.close()
    finally:
        connection.close()


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise SourceMissing(f"{path} does not exist (or is not a file); nothing was copied.")
    # mode=ro: SQLite itself refuses every write, so the source is left exactly as it was
    # (the operator's way back), and a file that vanished meanwhile is not created.
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = schema_version(sqlite_utils.Database(connection))
    except sqlite3.DatabaseError as error:
        connection.close()
        raise CopyRefused(f"{path} is not a readable SQLite database: {error}.") from None
    if version != SQLITE_SCHEMA_VERSION:
        connection.close()
        raise CopyRefused(_version_problem(path, version=version))
    return connection


def _version_problem(path: Path, *, version: int) -> str:
    if version == 0:
        return f"{path} is not a chatcore database (it has no chatcore schema)."
    if version < SQLITE_SCHEMA_VERSION:
        # Open it once with this chatcore (any command, e.g. faq export) to migrate it.
        return (
            f"{path} is at schema version {version}, older than this chatcore's"
            f" {SQLITE_SCHEMA_VERSION}: run any chatcore command on it first to upgrade it."
        )
    return (
        f"{path} is at schema version {version}, written by a newer chatcore"
        f" (this one knows {SQLITE_SCHEMA_VERSION}): copy it with that version."
    )


def _copy(source: sqlite_utils.Database, *, target: PostgresDatabase, batch: int) -> CopyReport:
    # One read transaction on the source: every batch comes from the same snapshot.
    source.execute("BEGIN")
    try:
        with target.uow() as uow:
            _lock_target(uow.txn)
            _require_empty(uow.txn)
            # The fresh target's default quick questions give way to the source's.
            uow.txn.run("DELETE FROM faqs")
            counts = {
                table: _stream(uow.txn, table=table, rows=_read(source, table=table, batch=batch))
                for table in _CONVERSIONS
            }
            _hand_over_connections(uow.txn)
            uow.commit()
    finally:
        source.execute("ROLLBACK")
    return CopyReport(
        agents=counts["agents"],
        conversations=counts["conversations"],
        messages=counts["messages"],
        faqs=counts["faqs"],
        sessions=counts["customer_sessions"],
    )


# The owner, in the target, of connections the source still counted.
COPIED_INSTANCE = "copied-from-sqlite"


def _hand_over_connections(txn: Txn) -> None:
    """Connections the source counted (its server crashed, or still runs) belong to no
    instance of the target: put under one last heard from in 1970, the first instance
    to start lets them go through the grace period, as after any stop."""
    txn.run(
        "INSERT INTO server_instances (id, seen_at) SELECT %s, '1970-01-01T00:00:00Z'"
        " WHERE EXISTS (SELECT 1 FROM agents WHERE connections > 0)",
        [COPIED_INSTANCE],
    )
    txn.run(
        "INSERT INTO agent_connections (instance_id, agent_id, connections)"
        " SELECT %s, id, connections FROM agents WHERE connections > 0",
        [COPIED_INSTANCE],
    )


def _lock_target(txn: Txn) -> None:
    """No chatcore (or second copy) writes to the target between the check and the commit.

    EXCLUSIVE still lets readers in. NOWAIT: a write in flight on the target (a server
    left running) is named as the problem at once, rather than waited for.
    """
    tables = sql.SQL(", ").join(sql.Identifier(table) for table in TABLES)
    # The refusal is raised inside: unavailable_on_failure would take LockNotAvailable
    # (an OperationalError) for a server that did not answer.
    with unavailable_on_failure():
        try:
            txn.conn.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE NOWAIT").format(tables))
        except errors.LockNotAvailable:
            raise CopyRefused(
                "The target database is being written to (a chatcore server, or another"
                " copy): stop it and try again. Nothing was copied."
            ) from None


def _require_empty(txn: Txn) -> None:
    counts = txn.one(
        "SELECT " + ", ".join(f'(SELECT count(*) FROM "{table}") AS "{table}"' for table in TABLES)
    )
    found = [
        f"{n} {table.replace('_', ' ')}"
        for table, n in (counts or {}).items()
        if n and table != "faqs"
    ]
    seeded = {entry.slug: rowmap.faq_row(entry) for entry in DEFAULT_FAQS}
    if any(seeded.get(row["slug"]) != row for row in txn.rows("SELECT * FROM faqs")):
        found.append("quick questions other than the default ones")
    if found:
        raise CopyRefused(
            f"The target database is not empty ({', '.join(found)}): db copy only fills a new"
            " database. Nothing was copied."
        )


def _read(source: sqlite_utils.Database, *, table: str, batch: int) -> Iterator[Mapping[str, Any]]:
    """The table's rows converted for the target, fetched ``batch`` at a time.

    In no particular order within the table: COPY checks foreign keys (reply_to
    included) once the whole table is in, so a reply may come before its question.
    """
    convert = _CONVERSIONS[table]
    cursor = source.execute(f'SELECT * FROM "{table}"')
    names = [column[0] for column in cursor.description]
    while fetched := cursor.fetchmany(batch):
        for values in fetched:
            yield convert(dict(zip(names, values, strict=True)))


def _stream(txn: Txn, *, table: str, rows: Iterator[Mapping[str, Any]]) -> int:
    """COPY the rows into ``table``; how many. psycopg sends them in buffered chunks."""
    first = next(rows, None)
    if first is None:
        return 0
    columns = tuple(first)  # the mapping's own keys: the column list is never spelled here
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    copied = 0
    try:
        with unavailable_on_failure(), txn.conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in chain([first], rows):
                copy.write_row([row[column] for column in columns])
                copied += 1
    except psycopg.IntegrityError as error:
        raise CopyRefused(
            f"The target refused a row of {table}: {error}. Nothing was copied."
        ) from None
    return copied
