"""What an agent does with conversations: list them, read them, answer, close."""

from __future__ import annotations

from dataclasses import dataclass, replace

import chatcore.conversation
from chatcore.agents import Agent
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.errors import NotYourConversation
from chatcore.events import ChatClosed, ConversationUpdated, MessageCreated
from chatcore.messages import Sender, SenderType, check_body
from chatcore.ports import ConversationListing, ListingCursor
from chatcore.usecases._assign import post_system_message
from chatcore.usecases._base import (
    Context,
    full_view_of,
    load_conversation,
    require_agent,
    transaction,
    view_of,
)
from chatcore.usecases.accounts import Actor
from chatcore.usecases.customer import (
    MESSAGE_PAGE_MAX,
    MessagePage,
    Posted,
    Resync,
    read_messages,
)

LISTING_MAX = 200
ALL_STATUSES = frozenset(Status)


@dataclass(frozen=True, slots=True)
class ConversationPage:
    items: list[ConversationView]
    next_cursor: ListingCursor | None


def closed_text(agent: Agent) -> str:
    return f"{agent.display_name} closed the conversation"


def may_read(agent: Agent, conversation: Conversation) -> bool:
    """Any agent reads what the bot holds; the rest only its holder, or an admin."""
    return chatcore.conversation.readable_by(conversation, agent.id, is_admin=agent.is_admin)


def list_conversations(
    ctx: Context,
    actor: Actor,
    *,
    statuses: frozenset[Status] = ALL_STATUSES,
    limit: int = 50,
    after: ListingCursor | None = None,
) -> ConversationPage:
    limit = max(1, min(limit, LISTING_MAX))
    with transaction(ctx, write=False) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        query = ConversationListing(
            statuses=statuses,
            viewer_id=None if agent.is_admin else agent.id,
            limit=limit + 1,
            after=after,
        )
        views = tx.uow.conversations.listing(query)
    page = views[:limit]
    more = len(views) > limit
    last = page[-1].conversation if page else None
    cursor = ListingCursor(last.updated_at, last.id) if more and last else None
    return ConversationPage(page, cursor)


def agent_messages(
    ctx: Context, actor: Actor, conversation_id: str, *, after_seq: int, limit: int
) -> MessagePage:
    with transaction(ctx, write=False) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        conversation = load_conversation(tx.uow, conversation_id)
        if not may_read(agent, conversation):
            raise NotYourConversation()
        return read_messages(tx, conversation_id, after_seq=after_seq, limit=limit)


def agent_resync(ctx: Context, actor: Actor, conversation_id: str, *, after_seq: int) -> Resync:
    """A conversation the agent may read and every message after ``after_seq``, in one snapshot."""
    with transaction(ctx, write=False) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        conversation = load_conversation(tx.uow, conversation_id)
        if not may_read(agent, conversation):
            raise NotYourConversation()
        page = read_messages(tx, conversation_id, after_seq=after_seq, limit=MESSAGE_PAGE_MAX)
        return Resync(full_view_of(tx.uow, conversation), page)


def typist(ctx: Context, actor: Actor, conversation_id: str) -> Agent:
    """The agent, if it may show "typing…" in this conversation: only its holder may."""
    with transaction(ctx, write=False) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        conversation = load_conversation(tx.uow, conversation_id)
        if conversation.status is not Status.AGENT or conversation.assigned_agent_id != agent.id:
            raise NotYourConversation("Only the agent holding the conversation types in it.")
        return agent


def post_agent_message(
    ctx: Context,
    actor: Actor,
    conversation_id: str,
    *,
    body: str,
    client_message_id: str | None = None,
) -> Posted:
    """Only the holder speaks here: admins close others' chats, never talk in them."""
    check_body(body)
    with transaction(ctx) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        conversation = load_conversation(tx.uow, conversation_id)
        if client_message_id is not None:
            stored = tx.uow.messages.by_client_id(
                conversation_id,
                sender_type=SenderType.AGENT,
                sender_id=agent.id,
                client_message_id=client_message_id,
            )
            if stored is not None:
                return Posted(stored, [], created=False)
        chatcore.conversation.agent_writes(conversation, agent_id=agent.id)
        now = ctx.clock.now()
        message = conversation.append(
            Sender(SenderType.AGENT, agent.id, agent.display_name),
            body,
            message_id=ctx.ids.new_id(),
            now=now,
            client_message_id=client_message_id,
        )
        tx.uow.conversations.save(conversation)
        tx.uow.messages.add(message)
        view = replace(view_of(tx.uow, conversation), last_message=message)
        tx.record(
            MessageCreated(message, conversation.assigned_agent_id),
            ConversationUpdated(view, status_changed=False),
        )
        return Posted(message, [], created=True)


def close_conversation(ctx: Context, actor: Actor, conversation_id: str) -> ConversationView:
    with transaction(ctx) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        conversation = load_conversation(tx.uow, conversation_id)
        now = ctx.clock.now()
        chatcore.conversation.close(
            conversation, by_agent_id=agent.id, by_admin=agent.is_admin, now=now
        )
        message = post_system_message(ctx, tx, conversation, closed_text(agent), now=now)
        tx.uow.conversations.save(conversation)
        view = replace(view_of(tx.uow, conversation), last_message=message)
        holder = conversation.assigned_agent_id
        tx.record(
            MessageCreated(message, holder),
            ChatClosed(conversation.id, agent.summary, now, holder),
            ConversationUpdated(view, status_changed=True, previous_agent_id=holder),
        )
        return view
