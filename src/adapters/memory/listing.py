"""The agents' conversation list, as ``adapters/listing_sql.py`` decides it for the databases.

AUTOMATED chats are everyone's; AGENT chats the viewer's own; CLOSED chats those
the viewer held or closed; no viewer (an admin) sees them all. Newest activity
first, the id breaking ties (both descending), strictly after the cursor.

A page filters every conversation and keeps the newest ``limit``: linear in the
number of conversations, which is what a store that fits in memory can afford.
"""

from __future__ import annotations

import heapq
from copy import copy
from datetime import datetime

from adapters.memory.tables import Tables, seq_index
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.ports import ConversationListing


def visible(conversation: Conversation, query: ConversationListing) -> bool:
    if conversation.status not in query.statuses:
        return False
    viewer = query.viewer_id
    if conversation.status is Status.AUTOMATED or viewer is None:
        return True
    if conversation.status is Status.AGENT:
        return conversation.assigned_agent_id == viewer
    return viewer in (conversation.assigned_agent_id, conversation.closed_by_id)


def newest_first(conversation: Conversation) -> tuple[datetime, str]:
    return (conversation.updated_at, conversation.id)


def page(tables: Tables, query: ConversationListing) -> list[ConversationView]:
    if not query.statuses or query.limit <= 0:
        return []
    shown = (c for c in tables.conversations.values() if visible(c, query))
    if query.after is not None:
        mark = (query.after.updated_at, query.after.conversation_id)
        shown = (c for c in shown if (c.updated_at, c.id) < mark)
    return [view(tables, c) for c in heapq.nlargest(query.limit, shown, key=newest_first)]


def view(tables: Tables, conversation: Conversation) -> ConversationView:
    """The conversation with its holder and its newest message, as the listing shows it."""
    holder = tables.agents.get(conversation.assigned_agent_id or "")
    thread = tables.threads.get(conversation.id, [])
    at = seq_index(thread, conversation.last_seq)
    last = thread[at] if at is not None else None
    return ConversationView(copy(conversation), holder.summary if holder else None, last)
