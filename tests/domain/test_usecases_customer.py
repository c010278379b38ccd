"""Customer use cases on the fakes: start, write, quick replies, escalation."""

from __future__ import annotations

import re

import pytest

from chatcore.bot import FALLBACK, GREETING, display_order
from chatcore.conversation import Status
from chatcore.errors import (
    ConversationNotFound,
    FaqNotFound,
    InvalidInput,
    NoAgentAvailable,
    NotWithBot,
    NotYourConversation,
)
from chatcore.events import AgentAssigned, ConversationUpdated, MessageCreated
from chatcore.messages import SenderType
from chatcore.presence import PresenceStatus
from chatcore.usecases import customer
from support.fakes import SAMPLE_FAQS, Fakes, make_context
from support.usecase_people import (
    escalate,
    first_admin,
    go_online,
    hire,
    say,
    set_presence,
    start_chat,
)

RESET = SAMPLE_FAQS[0]


def kinds(fakes: Fakes) -> list[list[type]]:
    return [[type(event) for event in batch] for batch in fakes.publisher.batches]


def test_start_greets_a_guest_and_offers_the_quick_questions() -> None:
    ctx, fakes = make_context()
    started = customer.start_conversation(ctx)
    conversation = started.view.conversation
    assert re.fullmatch(r"Guest \d{4}", conversation.customer.display_name)
    assert conversation.customer.email is None
    assert (conversation.status, conversation.last_seq) == (Status.AUTOMATED, 1)
    assert started.view.assigned_agent is None
    [greeting] = started.messages
    assert (greeting.seq, greeting.body, greeting.sender.type) == (1, GREETING, SenderType.BOT)
    assert started.quick_questions == display_order(SAMPLE_FAQS)
    assert len(started.session_id) >= 22  # room for 128 random bits
    assert kinds(fakes) == [[ConversationUpdated, MessageCreated]]
    assert fakes.tables.messages_of(conversation.id) == [greeting]


def test_start_takes_the_customers_name_and_email() -> None:
    ctx, _ = make_context()
    started = customer.start_conversation(ctx, display_name=" Zoë ", email="zoe@example.com")
    assert started.view.conversation.customer.display_name == "Zoë"
    assert started.view.conversation.customer.email == "zoe@example.com"
    with pytest.raises(InvalidInput) as refused:
        customer.start_conversation(ctx, display_name="", email="nope")
    assert set(refused.value.fields) == {"display_name", "email"}


def test_a_known_session_gathers_conversations_and_an_unknown_one_is_refused() -> None:
    ctx, fakes = make_context()
    first = start_chat(ctx)
    second = start_chat(ctx, session_id=first.session_id)
    assert second.session_id == first.session_id
    assert second.conversation_id != first.conversation_id
    for chat in (first, second):
        view = customer.get_conversation(ctx, chat.conversation_id, session_id=chat.session_id)
        assert view.conversation.id == chat.conversation_id
    published = len(fakes.publisher.batches)
    with pytest.raises(NotYourConversation):
        customer.start_conversation(ctx, session_id="secret-made-up")
    assert len(fakes.tables.conversations) == 2
    assert len(fakes.publisher.batches) == published


def test_only_the_session_that_owns_a_conversation_reads_it() -> None:
    ctx, _ = make_context()
    mine, theirs = start_chat(ctx), start_chat(ctx)
    with pytest.raises(NotYourConversation):
        customer.get_conversation(ctx, mine.conversation_id, session_id=theirs.session_id)
    with pytest.raises(NotYourConversation):
        customer.conversation_messages(
            ctx, mine.conversation_id, session_id=None, after_seq=0, limit=10
        )
    with pytest.raises(ConversationNotFound):
        customer.get_conversation(ctx, "no-such-id", session_id=mine.session_id)


def test_free_text_gets_the_best_faq_answer() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    fakes.publisher.clear()
    posted = say(ctx, chat, "I want to reset my password")
    assert posted.created
    assert (posted.message.seq, posted.message.sender.type) == (2, SenderType.CUSTOMER)
    [reply] = posted.replies
    assert (reply.seq, reply.sender.type, reply.body) == (3, SenderType.BOT, RESET.answer)
    assert (reply.faq_slug, reply.reply_to) == (RESET.slug, posted.message.id)
    assert kinds(fakes) == [[MessageCreated, MessageCreated, ConversationUpdated]]
    update = fakes.publisher.events[-1]
    assert isinstance(update, ConversationUpdated)
    assert update.view.last_message == reply
    assert not update.status_changed


def test_text_the_bot_does_not_understand_gets_the_fallback() -> None:
    ctx, _ = make_context()
    posted = say(ctx, start_chat(ctx), "qwertyuiop zxcv")
    [reply] = posted.replies
    assert (reply.body, reply.faq_slug) == (FALLBACK, None)


def test_an_empty_body_is_refused() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    with pytest.raises(InvalidInput) as refused:
        say(ctx, chat, "   ")
    assert set(refused.value.fields) == {"body"}
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 1


def test_a_retried_client_message_id_returns_what_was_stored() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    first = say(ctx, chat, "Where is my order?", client_message_id="c-1")
    published = len(fakes.publisher.batches)
    again = say(ctx, chat, "Where is my order?", client_message_id="c-1")
    assert not again.created
    assert (again.message, again.replies) == (first.message, first.replies)
    assert again.message.client_message_id == "c-1"
    assert len(fakes.publisher.batches) == published
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 3
    # The key is scoped to its conversation.
    other = say(ctx, start_chat(ctx), "Where is my order?", client_message_id="c-1")
    assert other.created


def test_a_quick_reply_stores_the_question_and_its_answer() -> None:
    ctx, _ = make_context()
    chat = start_chat(ctx)
    posted = customer.quick_reply(ctx, chat.conversation_id, RESET.slug, session_id=chat.session_id)
    assert (posted.message.body, posted.message.sender.type) == (
        RESET.question,
        SenderType.CUSTOMER,
    )
    [answer] = posted.replies
    assert (answer.body, answer.faq_slug, answer.seq) == (RESET.answer, RESET.slug, 3)


def test_a_quick_reply_needs_a_known_slug_and_the_bot() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    stranger = start_chat(ctx)
    with pytest.raises(FaqNotFound):
        customer.quick_reply(ctx, chat.conversation_id, "no-such", session_id=chat.session_id)
    with pytest.raises(FaqNotFound):  # 404 answers before the session's 403
        customer.quick_reply(ctx, chat.conversation_id, "no-such", session_id=stranger.session_id)
    with pytest.raises(ConversationNotFound):
        customer.quick_reply(ctx, "no-such-id", "no-such", session_id=chat.session_id)
    with pytest.raises(NotYourConversation):
        customer.quick_reply(ctx, chat.conversation_id, RESET.slug, session_id=stranger.session_id)
    go_online(ctx, first_admin(ctx))
    escalate(ctx, chat)
    with pytest.raises(NotWithBot):
        customer.quick_reply(ctx, chat.conversation_id, RESET.slug, session_id=chat.session_id)
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 2  # greeting, joined


def test_escalation_without_an_online_agent_is_refused() -> None:
    ctx, fakes = make_context()
    admin = first_admin(ctx)
    set_presence(ctx, hire(ctx, admin, "Bob"), PresenceStatus.AWAY)
    chat = start_chat(ctx)
    published = len(fakes.publisher.batches)
    with pytest.raises(NoAgentAvailable):
        escalate(ctx, chat)
    assert fakes.tables.conversations[chat.conversation_id].status is Status.AUTOMATED
    assert len(fakes.publisher.batches) == published
    assert all(a.last_assigned_at is None for a in fakes.tables.agents.values())


def test_escalation_assigns_once_with_one_joined_message() -> None:
    ctx, fakes = make_context()
    alice = go_online(ctx, first_admin(ctx, "Alice"))
    chat = start_chat(ctx)
    fakes.publisher.clear()
    assert escalate(ctx, chat) == alice.id
    assert kinds(fakes) == [[AgentAssigned, ConversationUpdated, MessageCreated]]
    assigned, update, created = fakes.publisher.events
    assert isinstance(assigned, AgentAssigned)
    assert assigned.agent.presence is PresenceStatus.ONLINE
    assert isinstance(update, ConversationUpdated)
    assert update.status_changed
    assert isinstance(created, MessageCreated)
    assert created.message.body == "Alice joined the conversation"
    assert created.message.sender.type is SenderType.SYSTEM
    assert created.assigned_agent_id == alice.id
    # Escalating again: the same assignment, nothing new stored or published.
    assert escalate(ctx, chat) == alice.id
    assert len(fakes.publisher.batches) == 1
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 2


def test_a_customer_keeps_writing_to_an_agent_without_bot_replies() -> None:
    ctx, fakes = make_context()
    alice = go_online(ctx, first_admin(ctx, "Alice"))
    chat = start_chat(ctx)
    escalate(ctx, chat)
    posted = say(ctx, chat, "How do I reset my password?")
    assert posted.replies == []
    created = fakes.publisher.events[-2]
    assert isinstance(created, MessageCreated)
    assert created.assigned_agent_id == alice.id


def test_capacity_and_fairness_spread_the_chats() -> None:
    ctx, _ = make_context(capacity=1)
    ada = go_online(ctx, first_admin(ctx))
    bob = go_online(ctx, hire(ctx, ada, "Bob"))
    holders = {escalate(ctx, start_chat(ctx)), escalate(ctx, start_chat(ctx))}
    assert holders == {ada.id, bob.id}
    with pytest.raises(NoAgentAvailable):
        escalate(ctx, start_chat(ctx))


def test_messages_page_in_seq_order() -> None:
    ctx, _ = make_context()
    chat = start_chat(ctx)
    for n in range(3):
        say(ctx, chat, f"question {n}")
    page = customer.conversation_messages(
        ctx, chat.conversation_id, session_id=chat.session_id, after_seq=2, limit=3
    )
    assert [m.seq for m in page.items] == [3, 4, 5]
    assert page.has_more
    rest = customer.conversation_messages(
        ctx, chat.conversation_id, session_id=chat.session_id, after_seq=5, limit=3
    )
    assert ([m.seq for m in rest.items], rest.has_more) == ([6, 7], False)


def test_quick_questions_come_in_display_order() -> None:
    ctx, _ = make_context(faqs=list(reversed(SAMPLE_FAQS)))
    assert customer.quick_questions(ctx) == display_order(SAMPLE_FAQS)
