"""Messages: appended with the seq their conversation gave them, read in seq order."""

from __future__ import annotations

import sqlite_utils

from adapters.sqlite.rows import message_from_row, message_row
from adapters.sqlite.tables import Rows, insert_row
from chatcore.messages import Message, SenderType


class SqliteMessageRepository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = Rows(db, "messages")

    def add(self, message: Message) -> None:
        # A taken (conversation, seq) or client_message_id raises IntegrityError: the use
        # cases check first, so this is the last line of defence, never silenced.
        insert_row(self._db, "messages", message_row(message))

    def after(self, conversation_id: str, *, after_seq: int, limit: int) -> list[Message]:
        rows = self._table.where(
            "conversation_id = ? AND seq > ?",
            [conversation_id, after_seq],
            order_by="seq",
            limit=max(limit, 0),
        )
        return [message_from_row(row) for row in rows]

    def by_client_id(
        self,
        conversation_id: str,
        *,
        sender_type: SenderType,
        sender_id: str | None,
        client_message_id: str,
    ) -> Message | None:
        # The very expression of the unique index messages_by_client_id, so it is used.
        rows = list(
            self._table.where(
                "conversation_id = ? AND sender_type = ? AND coalesce(sender_id, '') = ? "
                "AND client_message_id = ?",
                [conversation_id, sender_type.value, sender_id or "", client_message_id],
            )
        )
        return message_from_row(rows[0]) if rows else None

    def replies_to(self, message_id: str) -> list[Message]:
        rows = self._table.where("reply_to = ?", [message_id], order_by="seq")
        return [message_from_row(row) for row in rows]
