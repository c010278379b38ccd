"""Conversations: the aggregate that owns seq, and the agents' listing of them."""

from __future__ import annotations

import sqlite_utils

from adapters.listing_sql import Dialect, listing_sql
from adapters.sqlite.rows import conversation_from_row, conversation_row, to_text, view_from_row
from adapters.sqlite.tables import Rows, insert_row, select, update_row
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.ports import ConversationListing

LISTING = Dialect(
    placeholder="?",
    is_not="IS NOT",
    slice_select="SELECT * FROM ({})",
    union="{}",
    to_db=to_text,
)


class SqliteConversationRepository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = Rows(db, "conversations")

    def add(self, conversation: Conversation) -> None:
        insert_row(self._db, "conversations", conversation_row(conversation))

    def get(self, conversation_id: str) -> Conversation | None:
        rows = list(self._table.where("id = ?", [conversation_id]))
        return conversation_from_row(rows[0]) if rows else None

    def save(self, conversation: Conversation) -> None:
        update_row(self._db, "conversations", conversation_row(conversation))

    def held_by(self, agent_id: str, *, status: Status) -> list[Conversation]:
        rows = self._table.where(
            "assigned_agent_id = ? AND status = ?",
            [agent_id, status.value],
            order_by="updated_at, id",
        )
        return [conversation_from_row(row) for row in rows]

    def listing(self, query: ConversationListing) -> list[ConversationView]:
        if not query.statuses or query.limit <= 0:
            return []
        sql, params = listing_sql(query, LISTING)
        return [view_from_row(row) for row in select(self._db, sql, params)]
