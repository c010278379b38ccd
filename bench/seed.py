"""Fast seeding of a chatcore SQLite file before the server under test starts.

The schema is chatcore's own: ``SqliteDatabase(path)`` is opened once to create
and migrate the file, then closed. The rows are then written in bulk with raw
``sqlite3.executemany`` in a few large transactions, in exactly the column
formats of ``adapters.sqlite.rows`` (fixed-width ISO timestamps with a ``Z``,
enum values as text, UUID ids). Going through the use cases instead would cost
minutes for 100,000 conversations; the server cannot tell the difference.
"""

from __future__ import annotations

import operator
import os
import secrets
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.security import BcryptHasher
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.rows import AGENT_COLUMNS, CONVERSATION_COLUMNS, MESSAGE_COLUMNS, to_text

PASSWORD = "bench-password-42"
BATCH = 20_000  # rows per executemany call
BODIES = (
    "Hi, I ordered a blue jacket last week and it has not arrived yet.",
    "Could you check the tracking number for me, please?",
    "Sure, one moment while I look it up.",
    "The parcel left the warehouse on Tuesday; it should arrive tomorrow.",
    "Great, thank you! Can I still change the delivery address?",
    "Yes, as long as it has not reached the local depot. What is the new address?",
)


@dataclass(frozen=True)
class SeededAgent:
    id: str
    email: str
    display_name: str
    role: str


@dataclass(frozen=True)
class SeededConversation:
    id: str
    session_id: str
    last_seq: int


def create_schema(path: str | Path) -> None:
    """A fresh file with chatcore's schema (and its default quick questions)."""
    SqliteDatabase(path).close()


def _connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA synchronous = OFF")  # a scratch file: losing it on a crash is fine
    # Random UUID keys land all over every index: keep the whole file's pages in memory.
    conn.execute("PRAGMA cache_size = -1000000")
    return conn


def _insert(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> int:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    count = 0
    values = operator.itemgetter(*columns)
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(values(row))
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            count += len(batch)
            batch.clear()
    if batch:
        conn.executemany(sql, batch)
        count += len(batch)
    return count


@contextmanager
def _in_transaction(path: str | Path) -> Iterator[sqlite3.Connection]:
    with closing(_connect(path)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _agent_row(
    email: str, name: str, role: str, password_hash: str, presence: str, now: datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "email": email,
        "display_name": name,
        "role": role,
        "password_hash": password_hash,
        "created_at": to_text(now),
        "active": 1,
        "chosen_presence": presence,
        "link": "idle",
        "connections": 0,
        "disconnected_at": None,
        "last_assigned_at": None,
    }


def seed_agents(
    path: str | Path, count: int, *, presence: str = "offline", with_admin: bool = True
) -> tuple[SeededAgent | None, list[SeededAgent]]:
    """An admin (``admin@bench.example``) and ``count`` agents, all with PASSWORD.

    One bcrypt hash (4 rounds) serves every account: a login verifies it as usual.
    """
    password_hash = BcryptHasher(rounds=4).hash(PASSWORD)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    if with_admin:
        rows.append(
            _agent_row("admin@bench.example", "Bench Admin", "admin", password_hash, "offline", now)
        )
    for i in range(count):
        name = f"Agent {i:04d}"
        rows.append(
            _agent_row(
                f"agent{i:04d}@bench.example",
                name,
                "agent",
                password_hash,
                presence,
                now + timedelta(milliseconds=i + 1),
            )
        )
    with _in_transaction(path) as conn:
        _insert(conn, "agents", AGENT_COLUMNS, rows)
    seeded = [SeededAgent(r["id"], r["email"], r["display_name"], r["role"]) for r in rows]
    if with_admin:
        return seeded[0], seeded[1:]
    return None, seeded


def _conversation_row(
    conversation_id: str, session_id: str, name: str, created: str, updated: str, last_seq: int
) -> dict[str, Any]:
    return {
        "id": conversation_id,
        "session_id": session_id,
        "customer_name": name,
        "customer_email": None,
        "status": "automated",
        "assigned_agent_id": None,
        "created_at": created,
        "updated_at": updated,
        "escalated_at": None,
        "closed_at": None,
        "closed_by_id": None,
        "last_seq": last_seq,
    }


def _message_row(
    message_id: str,
    conversation_id: str,
    seq: int,
    sender_type: str,
    sender_name: str,
    body: str,
    at: str,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "conversation_id": conversation_id,
        "seq": seq,
        "sender_type": sender_type,
        "sender_id": None,
        "sender_name": sender_name,
        "body": body,
        "faq_slug": None,
        "client_message_id": None,
        "reply_to": None,
        "created_at": at,
    }


def _sorted_ids(count: int) -> list[str]:
    """Random version-4 UUIDs in ascending order: every index grows at its end while seeding.

    Made from one urandom call (uuid.uuid4 costs a few microseconds each).
    """
    raw = os.urandom(16 * count).hex()
    ids = []
    for i in range(0, 32 * count, 32):
        h = raw[i : i + 32]
        variant = "89ab"[int(h[16], 16) & 3]
        ids.append(f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}")
    ids.sort()
    return ids


def _stamps(oldest: datetime, count: int, step: timedelta) -> list[str]:
    return [to_text(oldest + step * i) for i in range(count)]


def seed_long_conversation(path: str | Path, messages: int) -> SeededConversation:
    """One AUTOMATED conversation of ``messages`` messages, customer and bot in turn.

    Its activity is older than anything ``seed_conversations`` writes, so it sits at the
    very end of the agents' listing and does not disturb it.
    """
    start = datetime.now(UTC) - timedelta(days=400)
    conversation_id = str(uuid.uuid4())
    session_id = secrets.token_urlsafe(24)
    # 10 ms apart, and distinct per millisecond text: one stamp per message.
    stamps = _stamps(start, messages + 1, timedelta(milliseconds=10))
    message_ids = _sorted_ids(messages)

    def rows() -> Iterator[dict[str, Any]]:
        for seq in range(1, messages + 1):
            customer = seq % 2 == 1
            yield _message_row(
                message_ids[seq - 1],
                conversation_id,
                seq,
                "customer" if customer else "bot",
                "Guest 0001" if customer else "Chatcore bot",
                BODIES[seq % len(BODIES)],
                stamps[seq],
            )

    with _in_transaction(path) as conn:
        _insert(
            conn,
            "customer_sessions",
            ("id", "created_at"),
            [{"id": session_id, "created_at": stamps[0]}],
        )
        _insert(
            conn,
            "conversations",
            CONVERSATION_COLUMNS,
            [
                _conversation_row(
                    conversation_id, session_id, "Guest 0001", stamps[0], stamps[-1], messages
                )
            ],
        )
        _insert(conn, "messages", MESSAGE_COLUMNS, rows())
    return SeededConversation(conversation_id, session_id, messages)


def seed_conversations(path: str | Path, count: int) -> list[tuple[str, str]]:
    """``count`` AUTOMATED conversations, each with its own session and one last message;
    their (conversation id, customer session id) pairs.

    Activity one second apart, the newest a second ago: the listing's newest-first order
    is a real ordering over distinct timestamps.
    """
    oldest = datetime.now(UTC) - timedelta(seconds=count + 1)
    stamps = _stamps(oldest, count, timedelta(seconds=1))
    conversation_ids = _sorted_ids(count)
    message_ids = _sorted_ids(count)
    sessions = [secrets.token_urlsafe(24) for _ in range(count)]
    names = [f"Guest {i:04d}" for i in range(10_000)]

    with _in_transaction(path) as conn:
        _insert(
            conn,
            "customer_sessions",
            ("id", "created_at"),
            sorted(
                ({"id": s, "created_at": stamps[i]} for i, s in enumerate(sessions)),
                key=lambda row: str(row["id"]),
            ),
        )
        _insert(
            conn,
            "conversations",
            CONVERSATION_COLUMNS,
            (
                _conversation_row(c, sessions[i], names[i % 10_000], stamps[i], stamps[i], 1)
                for i, c in enumerate(conversation_ids)
            ),
        )
        _insert(
            conn,
            "messages",
            MESSAGE_COLUMNS,
            (
                _message_row(
                    message_ids[i],
                    c,
                    1,
                    "customer",
                    names[i % 10_000],
                    BODIES[i % len(BODIES)],
                    stamps[i],
                )
                for i, c in enumerate(conversation_ids)
            ),
        )
    return list(zip(conversation_ids, sessions, strict=True))
