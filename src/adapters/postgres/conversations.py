"""Conversations: the aggregate that owns seq, and the agents' listing of them."""

from __future__ import annotations

from adapters.listing_sql import Dialect, listing_sql
from adapters.postgres.rows import conversation_from_row, conversation_row, to_db, view_from_row
from adapters.postgres.sql import Txn
from adapters.storable_text import is_storable
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.ports import ConversationListing

LISTING = Dialect(
    placeholder="%s",
    is_not="IS DISTINCT FROM",
    slice_select="({})",
    union="SELECT * FROM ({}) AS slices",
    to_db=to_db,
)


class PostgresConversationRepository:
    def __init__(self, txn: Txn) -> None:
        self._txn = txn

    def add(self, conversation: Conversation) -> None:
        self._txn.insert("conversations", conversation_row(conversation))

    def get(self, conversation_id: str) -> Conversation | None:
        if not is_storable(conversation_id):
            return None  # no row can have it; PostgreSQL would refuse even to compare
        # In a write unit the row stays locked until the unit ends: whoever reads a
        # conversation to change it (append with the next seq, assign) is alone with it,
        # and stays first in line until its events are out.
        self._txn.hold_publish_order(conversation_id)
        row = self._txn.one(
            f"SELECT * FROM conversations WHERE id = %s{self._txn.for_update}", [conversation_id]
        )
        return conversation_from_row(row) if row else None

    def save(self, conversation: Conversation) -> None:
        self._txn.update("conversations", conversation_row(conversation))

    def held_by(self, agent_id: str, *, status: Status) -> list[Conversation]:
        rows = self._txn.rows(
            "SELECT * FROM conversations WHERE assigned_agent_id = %s AND status = %s "
            "ORDER BY updated_at, id",
            [agent_id, status.value],
        )
        return [conversation_from_row(row) for row in rows]

    def listing(self, query: ConversationListing) -> list[ConversationView]:
        if not query.statuses or query.limit <= 0:
            return []
        sql, params = listing_sql(query, LISTING)
        return [view_from_row(row) for row in self._txn.rows(sql, params)]
