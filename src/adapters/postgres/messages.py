"""Messages: appended with the seq their conversation gave them, read in seq order."""

from __future__ import annotations

from adapters.postgres.rows import message_from_row, message_row
from adapters.postgres.sql import Txn
from adapters.storable_text import is_storable
from chatcore.messages import Message, SenderType


class PostgresMessageRepository:
    def __init__(self, txn: Txn) -> None:
        self._txn = txn

    def add(self, message: Message) -> None:
        # A taken (conversation, seq) or client_message_id raises IntegrityError: the use
        # cases check first, so this is the last line of defence, never silenced.
        self._txn.insert("messages", message_row(message))

    def after(self, conversation_id: str, *, after_seq: int, limit: int) -> list[Message]:
        rows = self._txn.rows(
            "SELECT * FROM messages WHERE conversation_id = %s AND seq > %s ORDER BY seq LIMIT %s",
            [conversation_id, after_seq, max(limit, 0)],
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
        if not is_storable(client_message_id):
            return None  # no row can have it; PostgreSQL would refuse even to compare
        # The very expression of the unique index messages_by_client_id, so it is used.
        row = self._txn.one(
            "SELECT * FROM messages WHERE conversation_id = %s AND sender_type = %s "
            "AND coalesce(sender_id, '') = %s AND client_message_id = %s",
            [conversation_id, sender_type.value, sender_id or "", client_message_id],
        )
        return message_from_row(row) if row else None

    def replies_to(self, message_id: str) -> list[Message]:
        rows = self._txn.rows(
            "SELECT * FROM messages WHERE reply_to = %s ORDER BY seq", [message_id]
        )
        return [message_from_row(row) for row in rows]
