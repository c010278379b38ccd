"""The in-memory store's tables, and the journal that lets a unit of work take its changes back.

Tables are plain dicts keyed as a schema would key them, plus two indexes kept in
seq order (each conversation's messages, the bot answers to each message), so the
hot reads (a page of messages, an idempotent retry) never scan every message.

A write unit changes the tables in place and writes down, for every change, how
to undo it; rollback plays those steps backwards, commit forgets them. Stored
entities are never changed in place: a save puts a fresh copy in the slot, so an
undo step only has to put the old object back.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from chatcore.agents import Agent
from chatcore.bot import FaqEntry
from chatcore.conversation import Conversation, Status
from chatcore.messages import Message, SenderType

K = TypeVar("K")
V = TypeVar("V")

# (conversation, sender type, sender id or "", client_message_id): SQLite's unique
# index messages_by_client_id, where a customer's missing sender id counts as "".
ClientKey = tuple[str, SenderType, str, str]


class IntegrityError(Exception):
    """A write a database schema would refuse: a taken key, or a row that refers to nothing."""


@dataclass(frozen=True, slots=True)
class TokenRow:
    agent_id: str
    expires_at: datetime


@dataclass(slots=True)
class Tables:
    sessions: dict[str, datetime] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    faqs: dict[str, FaqEntry] = field(default_factory=dict)
    tokens: dict[str, TokenRow] = field(default_factory=dict)
    # Server instances, last heard from; agent connections counted by (instance, agent).
    instances: dict[str, datetime] = field(default_factory=dict)
    held: dict[tuple[str, str], int] = field(default_factory=dict)
    # Indexes, in seq order: a conversation's messages; the bot answers to a message.
    threads: dict[str, list[Message]] = field(default_factory=dict)
    replies: dict[str, list[Message]] = field(default_factory=dict)
    client_keys: dict[ClientKey, Message] = field(default_factory=dict)

    def messages_of(self, conversation_id: str) -> list[Message]:
        """Every message of one conversation, ascending by seq."""
        return list(self.threads.get(conversation_id, ()))

    def loads(self) -> dict[str, int]:
        """How many AGENT conversations each agent holds (only agents holding some)."""
        held = Counter(
            c.assigned_agent_id
            for c in self.conversations.values()
            if c.status is Status.AGENT and c.assigned_agent_id is not None
        )
        return dict(held)


def client_key(message: Message) -> ClientKey | None:
    if message.client_message_id is None:
        return None
    sender = message.sender
    return (message.conversation_id, sender.type, sender.id or "", message.client_message_id)


def by_seq(message: Message) -> int:
    return message.seq


def seq_index(thread: list[Message], seq: int) -> int | None:
    """Where the message with this seq sits in a seq-ordered list, if it is there."""
    at = bisect_left(thread, seq, key=by_seq)
    return at if at < len(thread) and thread[at].seq == seq else None


def first_after(thread: list[Message], seq: int) -> int:
    return bisect_right(thread, seq, key=by_seq)


class Journal:
    """How to undo what one unit of work changed, newest step last."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], Any]] = []

    def put(self, table: dict[K, V], key: K, value: V) -> None:
        if key in table:
            self._undo.append(partial(table.__setitem__, key, table[key]))
        else:
            self._undo.append(partial(table.pop, key))
        table[key] = value

    def drop(self, table: dict[K, V], key: K) -> V | None:
        if key not in table:
            return None
        old = table.pop(key)
        self._undo.append(partial(table.__setitem__, key, old))
        return old

    def insort(self, index: dict[str, list[Message]], key: str, message: Message) -> None:
        """Put ``message`` into the seq-ordered list under ``key``."""
        if key not in index:
            self.put(index, key, [])
        listed = index[key]
        at = first_after(listed, message.seq)
        listed.insert(at, message)
        # Undone newest first, so the list is exactly as this left it: ``at`` still holds.
        self._undo.append(partial(listed.pop, at))

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    def forget(self) -> None:
        self._undo.clear()
