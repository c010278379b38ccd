"""Messages: appended with the seq their conversation gave them, read in seq order."""

from __future__ import annotations

from adapters.memory.access import Access
from adapters.memory.tables import IntegrityError, client_key, first_after, seq_index
from chatcore.messages import Message, SenderType


class MemoryMessageRepository:
    def __init__(self, access: Access) -> None:
        self._access = access

    def add(self, message: Message) -> None:
        # A taken (conversation, seq) or client_message_id raises IntegrityError: the use
        # cases check first, so this is the last line of defence, as in the databases.
        tables, journal = self._access.change()
        if message.id in tables.messages:
            raise IntegrityError(f"message {message.id} exists")
        if message.conversation_id not in tables.conversations:
            raise IntegrityError(f"no conversation {message.conversation_id}")
        if message.reply_to is not None and message.reply_to not in tables.messages:
            raise IntegrityError(f"no message {message.reply_to} to reply to")
        thread = tables.threads.get(message.conversation_id, [])
        if seq_index(thread, message.seq) is not None:
            raise IntegrityError(f"seq {message.seq} is taken")
        key = client_key(message)
        if key is not None and key in tables.client_keys:
            raise IntegrityError(f"client_message_id {message.client_message_id} is taken")
        journal.put(tables.messages, message.id, message)
        journal.insort(tables.threads, message.conversation_id, message)
        if message.reply_to is not None:
            journal.insort(tables.replies, message.reply_to, message)
        if key is not None:
            journal.put(tables.client_keys, key, message)

    def after(self, conversation_id: str, *, after_seq: int, limit: int) -> list[Message]:
        thread = self._access.read().threads.get(conversation_id, [])
        start = first_after(thread, after_seq)
        return thread[start : start + max(limit, 0)]

    def by_client_id(
        self,
        conversation_id: str,
        *,
        sender_type: SenderType,
        sender_id: str | None,
        client_message_id: str,
    ) -> Message | None:
        key = (conversation_id, sender_type, sender_id or "", client_message_id)
        return self._access.read().client_keys.get(key)

    def replies_to(self, message_id: str) -> list[Message]:
        return list(self._access.read().replies.get(message_id, ()))
