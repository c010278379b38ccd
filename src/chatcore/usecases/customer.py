"""What a customer does: start a chat, write, take a quick reply, ask for a person."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import chatcore.conversation
from chatcore.agents import check_fields, display_name_problem, email_problem
from chatcore.bot import BOT_NAME, FALLBACK, GREETING, FaqEntry, best_answer
from chatcore.conversation import (
    Conversation,
    ConversationView,
    Customer,
    Status,
    customer_sender,
)
from chatcore.errors import FaqNotFound, NoAgentAvailable, NotYourConversation
from chatcore.events import ConversationUpdated, MessageCreated
from chatcore.messages import Message, Sender, SenderType, check_body
from chatcore.usecases._assign import announce_assignment, free_agent
from chatcore.usecases._base import (
    Context,
    Tx,
    customer_conversation,
    full_view_of,
    load_conversation,
    transaction,
    view_of,
)

BOT = Sender(SenderType.BOT, None, BOT_NAME)
MESSAGE_PAGE_MAX = 500


@dataclass(frozen=True, slots=True)
class StartedConversation:
    session_id: str
    view: ConversationView
    messages: list[Message]
    quick_questions: list[FaqEntry]


@dataclass(frozen=True, slots=True)
class Posted:
    message: Message
    replies: list[Message]
    created: bool  # False: an idempotent retry answered from what was stored


@dataclass(frozen=True, slots=True)
class MessagePage:
    items: list[Message]
    has_more: bool


@dataclass(frozen=True, slots=True)
class Resync:
    """A conversation and the messages after a seq, read in one snapshot."""

    view: ConversationView
    page: MessagePage


def guest_name(conversation_id: str) -> str:
    """ "Guest" and four digits, taken from the id so no clock or dice are needed."""
    digits = int("".join(c for c in conversation_id if c.isalnum())[-6:] or "0", 36) % 10000
    return f"Guest {digits:04d}"


def quick_questions(ctx: Context) -> list[FaqEntry]:
    with transaction(ctx, write=False) as tx:
        return tx.uow.faqs.all()


def start_conversation(
    ctx: Context,
    *,
    session_id: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> StartedConversation:
    """A new chat with the bot's greeting. A known session id gathers chats; unknown is 403."""
    check_fields(
        display_name=None if display_name is None else display_name_problem(display_name),
        email=None if email is None else email_problem(email),
    )
    now = ctx.clock.now()
    with transaction(ctx) as tx:
        if session_id is None:
            session_id = ctx.ids.new_secret()
            tx.uow.sessions.add(session_id, created_at=now)
        elif not tx.uow.sessions.exists(session_id):
            raise NotYourConversation("The customer session is not known.")
        conversation_id = ctx.ids.new_id()
        name = display_name.strip() if display_name else guest_name(conversation_id)
        conversation = Conversation(
            id=conversation_id,
            session_id=session_id,
            customer=Customer(name, email),
            created_at=now,
            updated_at=now,
        )
        greeting = conversation.append(BOT, GREETING, message_id=ctx.ids.new_id(), now=now)
        tx.uow.conversations.add(conversation)
        tx.uow.messages.add(greeting)
        view = ConversationView(conversation, None, greeting)
        tx.record(ConversationUpdated(view, status_changed=True), MessageCreated(greeting, None))
        return StartedConversation(session_id, view, [greeting], tx.uow.faqs.all())


def session_exists(ctx: Context, session_id: str) -> bool:
    """Whether ``session_id`` names a customer session (rate limits key on the answer)."""
    with transaction(ctx, write=False) as tx:
        return tx.uow.sessions.exists(session_id)


def get_conversation(
    ctx: Context, conversation_id: str, *, session_id: str | None
) -> ConversationView:
    with transaction(ctx, write=False) as tx:
        conversation = customer_conversation(tx.uow, conversation_id, session_id=session_id)
        return view_of(tx.uow, conversation)


def read_messages(tx: Tx, conversation_id: str, *, after_seq: int, limit: int) -> MessagePage:
    limit = max(1, min(limit, MESSAGE_PAGE_MAX))
    items = tx.uow.messages.after(conversation_id, after_seq=after_seq, limit=limit + 1)
    return MessagePage(items[:limit], has_more=len(items) > limit)


def conversation_messages(
    ctx: Context, conversation_id: str, *, session_id: str | None, after_seq: int, limit: int
) -> MessagePage:
    with transaction(ctx, write=False) as tx:
        customer_conversation(tx.uow, conversation_id, session_id=session_id)
        return read_messages(tx, conversation_id, after_seq=after_seq, limit=limit)


def customer_resync(
    ctx: Context, conversation_id: str, *, session_id: str | None, after_seq: int
) -> Resync:
    """What a reconnecting customer missed: the conversation, the messages after ``after_seq``."""
    with transaction(ctx, write=False) as tx:
        conversation = customer_conversation(tx.uow, conversation_id, session_id=session_id)
        page = read_messages(tx, conversation_id, after_seq=after_seq, limit=MESSAGE_PAGE_MAX)
        return Resync(full_view_of(tx.uow, conversation), page)


def post_customer_message(
    ctx: Context,
    conversation_id: str,
    *,
    session_id: str | None,
    body: str,
    client_message_id: str | None = None,
) -> Posted:
    """Store the customer's words; while the bot holds the chat, store its one reply too."""
    check_body(body)
    with transaction(ctx) as tx:
        conversation = customer_conversation(tx.uow, conversation_id, session_id=session_id)
        if client_message_id is not None:
            stored = tx.uow.messages.by_client_id(
                conversation_id,
                sender_type=SenderType.CUSTOMER,
                sender_id=None,
                client_message_id=client_message_id,
            )
            if stored is not None:  # a retry: answer as before, store and emit nothing
                return Posted(stored, tx.uow.messages.replies_to(stored.id), created=False)
        chatcore.conversation.customer_writes(conversation)
        now = ctx.clock.now()
        message = conversation.append(
            customer_sender(conversation),
            body,
            message_id=ctx.ids.new_id(),
            now=now,
            client_message_id=client_message_id,
        )
        replies = []
        if conversation.status is Status.AUTOMATED:
            entry = best_answer(body, tx.uow.faqs.all())
            replies.append(_bot_says(ctx, conversation, entry, reply_to=message.id, now=now))
        return _store_exchange(tx, conversation, message, replies)


def quick_reply(
    ctx: Context, conversation_id: str, faq_slug: str, *, session_id: str | None
) -> Posted:
    """The customer tapped a quick question: store it as their message, then its answer."""
    with transaction(ctx) as tx:
        conversation = tx.uow.conversations.get(conversation_id)
        entry = tx.uow.faqs.get(faq_slug)
        if conversation is None or entry is None:
            # Both are 404s, answered before the session's 403 (the contract's order);
            # the conversation's own message wins when both are missing.
            load_conversation(tx.uow, conversation_id)
            raise FaqNotFound()
        conversation = customer_conversation(tx.uow, conversation_id, session_id=session_id)
        chatcore.conversation.quick_reply(conversation)
        now = ctx.clock.now()
        question = conversation.append(
            customer_sender(conversation), entry.question, message_id=ctx.ids.new_id(), now=now
        )
        answer = _bot_says(ctx, conversation, entry, reply_to=question.id, now=now)
        return _store_exchange(tx, conversation, question, [answer])


def _bot_says(
    ctx: Context,
    conversation: Conversation,
    entry: FaqEntry | None,
    *,
    reply_to: str,
    now: datetime,
) -> Message:
    return conversation.append(
        BOT,
        entry.answer if entry else FALLBACK,
        message_id=ctx.ids.new_id(),
        now=now,
        faq_slug=entry.slug if entry else None,
        reply_to=reply_to,
    )


def _store_exchange(
    tx: Tx, conversation: Conversation, message: Message, replies: list[Message]
) -> Posted:
    tx.uow.conversations.save(conversation)
    for stored in (message, *replies):
        tx.uow.messages.add(stored)
        tx.record(MessageCreated(stored, conversation.assigned_agent_id))
    last = replies[-1] if replies else message
    view = replace(view_of(tx.uow, conversation), last_message=last)
    tx.record(ConversationUpdated(view, status_changed=False))
    return Posted(message, replies, created=True)


def escalate(ctx: Context, conversation_id: str, *, session_id: str | None) -> ConversationView:
    """Hand the chat to a free agent: exactly once, however many calls race."""
    with transaction(ctx) as tx:
        conversation = customer_conversation(tx.uow, conversation_id, session_id=session_id)
        chatcore.conversation.ensure_escalation_allowed(conversation)
        if chatcore.conversation.has_agent(conversation):  # asked again: the same assignment
            return view_of(tx.uow, conversation)
        now = ctx.clock.now()
        agent = free_agent(ctx, tx, now=now)
        if agent is None:
            raise NoAgentAvailable()
        chatcore.conversation.escalate(conversation, agent_id=agent.id, now=now)
        announce_assignment(
            ctx, tx, conversation, agent, now=now, previous_agent_id=None, status_changed=True
        )
        return view_of(tx.uow, conversation)
