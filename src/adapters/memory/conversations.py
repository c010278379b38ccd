"""Conversations: the aggregate that owns seq, and the agents' listing of them."""

from __future__ import annotations

from copy import copy

from adapters.memory import listing
from adapters.memory.access import Access
from adapters.memory.tables import IntegrityError, Tables
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.ports import ConversationListing


class MemoryConversationRepository:
    def __init__(self, access: Access) -> None:
        self._access = access

    def add(self, conversation: Conversation) -> None:
        tables, journal = self._access.change()
        if conversation.id in tables.conversations:
            raise IntegrityError(f"conversation {conversation.id} exists")
        _check_session(tables, conversation)
        _check_agents(tables, conversation)
        journal.put(tables.conversations, conversation.id, copy(conversation))

    def get(self, conversation_id: str) -> Conversation | None:
        found = self._access.read().conversations.get(conversation_id)
        return copy(found) if found else None

    def save(self, conversation: Conversation) -> None:
        tables, journal = self._access.change()
        if conversation.id not in tables.conversations:
            raise LookupError(f"no conversations row {conversation.id!r} to save")
        _check_session(tables, conversation)
        _check_agents(tables, conversation)
        journal.put(tables.conversations, conversation.id, copy(conversation))

    def held_by(self, agent_id: str, *, status: Status) -> list[Conversation]:
        held = [
            c
            for c in self._access.read().conversations.values()
            if c.assigned_agent_id == agent_id and c.status is status
        ]
        return [copy(c) for c in sorted(held, key=lambda c: (c.updated_at, c.id))]

    def listing(self, query: ConversationListing) -> list[ConversationView]:
        return listing.page(self._access.read(), query)


def _check_session(tables: Tables, conversation: Conversation) -> None:
    # A keyed lookup, as a database's primary key: no session is ever compared with ==.
    if tables.sessions.get(conversation.session_id) is None:
        raise IntegrityError(f"no customer session {conversation.session_id}")


def _check_agents(tables: Tables, conversation: Conversation) -> None:
    for agent_id in (conversation.assigned_agent_id, conversation.closed_by_id):
        if agent_id is not None and agent_id not in tables.agents:
            raise IntegrityError(f"no agent {agent_id}")
