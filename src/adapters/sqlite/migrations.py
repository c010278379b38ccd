"""The schema, as a list of forward migrations; ``PRAGMA user_version`` says how far a file is.

Migration N takes a file from version N-1 to N inside its own IMMEDIATE
transaction, so two processes opening the same new file (a server and the CLI)
never both apply it. Migrations are history: never edit one that has shipped,
add the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils

from adapters.sqlite.rows import faq_row
from adapters.sqlite.tables import table
from chatcore.default_faqs import DEFAULT_FAQS

Migration = Callable[[sqlite_utils.Database], None]


class SchemaTooNew(RuntimeError):
    """The file was written by a newer chatcore: this one must not touch it."""


def _v1_create_schema(db: sqlite_utils.Database) -> None:
    """Every table and index, and the default quick questions (a fresh file only)."""
    _create_sessions_and_agents(db)
    _create_conversations(db)
    _create_messages(db)
    _create_faqs_and_tokens(db)
    table(db, "faqs").insert_all([faq_row(entry) for entry in DEFAULT_FAQS])


def _create_sessions_and_agents(db: sqlite_utils.Database) -> None:
    db.create_table(
        "customer_sessions", {"id": str, "created_at": str}, pk="id", not_null=["created_at"]
    )
    agents = db.create_table(
        "agents",
        {
            "id": str,
            "email": str,
            "display_name": str,
            "role": str,
            "password_hash": str,
            "created_at": str,
            "active": bool,
            "chosen_presence": str,
            "link": str,
            "connections": int,
            "disconnected_at": str,
            "last_assigned_at": str,
        },
        pk="id",
        not_null=[
            "email",
            "display_name",
            "role",
            "password_hash",
            "created_at",
            "active",
            "chosen_presence",
            "link",
            "connections",
        ],
        defaults={"active": 1, "chosen_presence": "offline", "link": "idle", "connections": 0},
    )
    agents.create_index(["email"], index_name="agents_by_email", unique=True)


def _create_conversations(db: sqlite_utils.Database) -> None:
    conversations = db.create_table(
        "conversations",
        {
            "id": str,
            "session_id": str,
            "customer_name": str,
            "customer_email": str,
            "status": str,
            "assigned_agent_id": str,
            "created_at": str,
            "updated_at": str,
            "escalated_at": str,
            "closed_at": str,
            "closed_by_id": str,
            "last_seq": int,
        },
        pk="id",
        foreign_keys=[
            ("session_id", "customer_sessions", "id"),
            ("assigned_agent_id", "agents", "id"),
            ("closed_by_id", "agents", "id"),
        ],
        not_null=["session_id", "customer_name", "status", "created_at", "updated_at", "last_seq"],
        defaults={"last_seq": 0},
    )
    # One index per slice of the agents' listing, each ending in (updated_at, id) so a
    # page is read in order straight from the index: no sort, no scan of old chats.
    conversations.create_index(["status", "updated_at", "id"], index_name="conversations_by_status")
    conversations.create_index(
        ["assigned_agent_id", "status", "updated_at", "id"], index_name="conversations_by_holder"
    )
    conversations.create_index(
        ["closed_by_id", "updated_at", "id"], index_name="conversations_by_closer"
    )


def _create_messages(db: sqlite_utils.Database) -> None:
    messages = db.create_table(
        "messages",
        {
            "id": str,
            "conversation_id": str,
            "seq": int,
            "sender_type": str,
            "sender_id": str,
            "sender_name": str,
            "body": str,
            "faq_slug": str,  # no foreign key: a deleted FAQ entry leaves history alone
            "client_message_id": str,
            "reply_to": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("conversation_id", "conversations", "id"), ("reply_to", "messages", "id")],
        not_null=["conversation_id", "seq", "sender_type", "sender_name", "body", "created_at"],
    )
    # The database itself guarantees seq is never reused, whatever a caller does.
    messages.create_index(["conversation_id", "seq"], index_name="messages_by_seq", unique=True)
    messages.create_index(["reply_to"], index_name="messages_by_reply_to")
    # A client's idempotency key is unique per sender; customers have no sender id,
    # hence the coalesce (NULLs would never collide in a plain unique index).
    db.execute(
        "CREATE UNIQUE INDEX messages_by_client_id ON messages "
        "(conversation_id, sender_type, coalesce(sender_id, ''), client_message_id) "
        "WHERE client_message_id IS NOT NULL"
    )


def _create_faqs_and_tokens(db: sqlite_utils.Database) -> None:
    faqs = db.create_table(
        "faqs",
        {"slug": str, "question": str, "answer": str, "position": int},
        pk="slug",
        not_null=["question", "answer", "position"],
        defaults={"position": 0},
    )
    faqs.create_index(["position", "slug"], index_name="faqs_in_display_order")
    tokens = db.create_table(
        "access_tokens",
        {"id": str, "agent_id": str, "expires_at": str},
        pk="id",
        foreign_keys=[("agent_id", "agents", "id")],
        not_null=["agent_id", "expires_at"],
    )
    tokens.create_index(["agent_id"], index_name="access_tokens_by_agent")
    tokens.create_index(["expires_at"], index_name="access_tokens_by_expiry")


def _v2_count_connections_per_instance(db: sqlite_utils.Database) -> None:
    """Which server process holds each agent connection, so several can share the data.

    Counts kept before this are put under an instance nobody runs, last heard from
    in 1970: the next server to start lets them go, as it always did at start-up.
    """
    db.execute("CREATE TABLE server_instances (id TEXT PRIMARY KEY, seen_at TEXT NOT NULL)")
    db.execute(
        "CREATE TABLE agent_connections ("
        " instance_id TEXT NOT NULL, agent_id TEXT NOT NULL REFERENCES agents (id),"
        " connections INTEGER NOT NULL CHECK (connections >= 0),"
        " PRIMARY KEY (instance_id, agent_id))"
    )
    db.execute(
        "INSERT INTO server_instances (id, seen_at) SELECT ?, ?"
        " WHERE EXISTS (SELECT 1 FROM agents WHERE connections > 0)",
        [UPGRADED_INSTANCE, "1970-01-01T00:00:00.000Z"],
    )
    db.execute(
        "INSERT INTO agent_connections (instance_id, agent_id, connections)"
        " SELECT ?, id, connections FROM agents WHERE connections > 0",
        [UPGRADED_INSTANCE],
    )


# The owner of connections counted before schema 2.
UPGRADED_INSTANCE = "before-schema-2"

MIGRATIONS: tuple[Migration, ...] = (_v1_create_schema, _v2_count_connections_per_instance)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Bring the file up to SCHEMA_VERSION, one migration per transaction; the version."""
    while (version := schema_version(db)) < SCHEMA_VERSION:
        with _immediate(db):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = schema_version(db)
            if version < SCHEMA_VERSION:
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version = {version + 1}")
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"the database is at schema version {version}; this chatcore knows {SCHEMA_VERSION}"
        )
    return version


@contextmanager
def _immediate(db: sqlite_utils.Database) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
