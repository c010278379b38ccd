"""One transaction on one pooled connection, with the repositories bound to it.

A write unit is one READ COMMITTED transaction. Unlike SQLite's, write units run
side by side, in this process and in every other instance, so what SQLite got
from its single writer comes here from row locks, under one rule:

    Lock a conversation before any agent, and the agents only all at once, in id order.
    Server-instance rows (presence counts) come before the agents too.

- ``conversations.get`` in a write unit locks the conversation's row: seq
  allocation and "exactly one assignment" read the latest committed row, and a
  second escalation waits, then sees the first one's assignment.
- Agent rows are locked only by a sweep over every agent, ordered by id, taken at
  most once per unit: by ``agents.candidates()`` before it counts the loads (so two
  escalations of different chats cannot both fill the last seat of one agent) and
  by ``agents.save()`` before it writes. Sweeps all take rows in the same order, so
  they cannot deadlock one another. Other agent reads lock nothing: views and the
  acting agent's check only read, and ``save()`` refuses to write over a change made
  since this unit read the row (StorageUnavailable, retryable) rather than lose it.
- Checked against every write use case: escalation locks its conversation, then
  sweeps. Messages, quick replies and close lock one conversation and never sweep.
  Presence, password and assignment bookkeeping sweep and lock no conversation;
  presence locks its server-instance and connection-count rows first, then sweeps.
  Deactivation is the one unit that sweeps (saving the leaving agent) before it locks
  conversations; those are the leaving agent's AGENT chats, which no other unit locks
  and then sweeps (escalating them is a no-op that reads only), so no cycle forms.
  Token purges skip locked rows. Registration serializes on an advisory lock taken
  first. Should a cycle ever form, PostgreSQL breaks it and the loser gets a 503.

Events go out in commit order per conversation: a write unit that reads a
conversation to change it first takes a session advisory lock on it, which
outlives the COMMIT and is let go only when the unit is left, after the use case
published (``Txn.hold_publish_order``). SQLite gets the same from holding its
write lock past the commit.

A read unit is a READ ONLY, REPEATABLE READ transaction: one snapshot for all its
statements (as SQLite's read units have), no locks, never waited on by writers.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

import psycopg
from psycopg import pq

from adapters.postgres.agents import PostgresAgentRepository
from adapters.postgres.connections import Connection, Connections, unavailable_on_failure
from adapters.postgres.conversations import PostgresConversationRepository
from adapters.postgres.faqs import PostgresFaqRepository
from adapters.postgres.instances import PostgresInstanceRepository
from adapters.postgres.messages import PostgresMessageRepository
from adapters.postgres.sql import Txn
from adapters.postgres.tokens_sessions import (
    PostgresAccessTokenRepository,
    PostgresCustomerSessionRepository,
)
from chatcore.ports import (
    AccessTokenRepository,
    AgentRepository,
    ConversationRepository,
    CustomerSessionRepository,
    FaqRepository,
    MessageRepository,
    ServerInstanceRepository,
)

BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


class PostgresUnitOfWork:
    """A chatcore UnitOfWork. Leaving the block without commit() rolls back."""

    conversations: ConversationRepository
    messages: MessageRepository
    agents: AgentRepository
    faqs: FaqRepository
    sessions: CustomerSessionRepository
    tokens: AccessTokenRepository
    instances: ServerInstanceRepository
    txn: Txn  # the open transaction, for tests and tools; the use cases see the repositories

    def __init__(self, connections: Connections, *, write: bool) -> None:
        self._connections = connections
        self._write = write
        self._conn: Connection | None = None
        self._open = False

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("this unit is already open; units do not nest")
        conn = self._connections.acquire()
        try:
            with unavailable_on_failure():
                conn.execute(BEGIN_WRITE if self._write else BEGIN_READ)
        except BaseException:
            self._connections.failed(conn)
            self._connections.release(conn)
            raise
        self._connections.answered()
        self._conn, self._open = conn, True
        self.txn = txn = Txn(conn, write=self._write)
        self.conversations = PostgresConversationRepository(txn)
        self.messages = PostgresMessageRepository(txn)
        self.agents = PostgresAgentRepository(txn)
        self.faqs = PostgresFaqRepository(txn)
        self.sessions = PostgresCustomerSessionRepository(txn)
        self.tokens = PostgresAccessTokenRepository(txn)
        self.instances = PostgresInstanceRepository(txn)
        return self

    def commit(self) -> None:
        if self._conn is None or not self._open:
            raise RuntimeError("nothing to commit: the unit is not open, or already committed")
        with unavailable_on_failure():
            self._conn.execute("COMMIT")
        self._open = False

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if exc is not None:
            self._connections.failed(conn)
        try:
            # A failed ROLLBACK means a dead connection: the pool discards it below.
            with contextlib.suppress(psycopg.Error):
                if conn.info.transaction_status != pq.TransactionStatus.IDLE and not conn.broken:
                    conn.execute("ROLLBACK")
                if self.txn.holds_publish_order and not conn.broken:
                    conn.execute("SELECT pg_advisory_unlock_all()")  # the events are out
        finally:
            # Back to the pool whatever happened; it resets or discards what is left.
            self._connections.release(conn)
