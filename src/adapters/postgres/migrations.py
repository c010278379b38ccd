"""Forward migrations; the ``schema_migrations`` table says how far a database is.

Migration N takes a database from version N-1 to N inside its own transaction,
holding a transaction-level advisory lock: instances starting together queue on
it, and the one that comes second re-reads the version and finds nothing to do.
Migrations are history: never edit one that has shipped, add the next one.
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.postgres.connections import Connection, unavailable_on_failure
from adapters.postgres.rows import faq_row
from adapters.postgres.schema import V1_STATEMENTS, V2_STATEMENTS
from adapters.postgres.sql import Txn
from chatcore.default_faqs import DEFAULT_FAQS

Migration = Callable[[Txn], None]

# Any fixed 64-bit number; it only has to differ from other advisory locks in the database.
MIGRATION_LOCK = 0x63686174636F7265  # "chatcore"


class SchemaTooNew(RuntimeError):
    """The database was written by a newer chatcore: this one must not touch it."""


def _v1_create_schema(txn: Txn) -> None:
    """Every table and index, and the default quick questions (a fresh database only)."""
    for statement in V1_STATEMENTS:
        txn.run(statement)
    for entry in DEFAULT_FAQS:
        txn.insert("faqs", faq_row(entry))


def _v2_count_connections_per_instance(txn: Txn) -> None:
    """Which server instance holds each agent connection, so an instance's crash
    lets go of its own connections only."""
    for statement in V2_STATEMENTS:
        txn.run(statement)


MIGRATIONS: tuple[Migration, ...] = (_v1_create_schema, _v2_count_connections_per_instance)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(txn: Txn) -> int:
    row = txn.one(
        "SELECT coalesce(max(version), 0) AS version FROM schema_migrations"
        if _has_version_table(txn)
        else "SELECT 0 AS version"
    )
    return int(row["version"]) if row else 0


def _has_version_table(txn: Txn) -> bool:
    row = txn.one("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
    return bool(row and row["present"])


def migrate(conn: Connection) -> int:
    """Bring the database up to SCHEMA_VERSION, one migration per transaction; the version."""
    txn = Txn(conn, write=True)
    while True:
        with unavailable_on_failure(), conn.transaction():
            txn.run("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
            txn.run(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            version = schema_version(txn)
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"the database is at schema version {version};"
                    f" this chatcore knows {SCHEMA_VERSION}"
                )
            if version == SCHEMA_VERSION:
                return version
            MIGRATIONS[version](txn)
            txn.run("INSERT INTO schema_migrations (version) VALUES (%s)", [version + 1])
