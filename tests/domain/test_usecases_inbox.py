"""Agent inbox use cases on the fakes: who may read, write and close, and what lists show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from chatcore.conversation import Status
from chatcore.errors import (
    ConversationClosed,
    NotWithAgent,
    NotYourConversation,
    Unauthorized,
)
from chatcore.events import ChatClosed, ConversationUpdated, MessageCreated
from chatcore.messages import SenderType
from chatcore.usecases import Context, Posted, admin, customer, inbox
from support.fakes import SAMPLE_FAQS, make_context
from support.usecase_people import (
    Chat,
    Staff,
    escalate,
    first_admin,
    go_online,
    hire,
    say,
    start_chat,
)


def team(ctx: Context) -> tuple[Staff, Staff, Staff]:
    """An admin (Ada) and two agents (Bob, Cat); only Bob is online."""
    ada = first_admin(ctx)
    bob = go_online(ctx, hire(ctx, ada, "Bob"))
    cat = hire(ctx, ada, "Cat")
    return ada, bob, cat


def bobs_chat(ctx: Context) -> Chat:
    chat = start_chat(ctx)
    escalate(ctx, chat)
    return chat


def answer(ctx: Context, staff: Staff, chat: Chat) -> Posted:
    return inbox.post_agent_message(ctx, staff.actor, chat.conversation_id, body="Hello!")


def test_the_holder_answers_and_the_customer_sees_it() -> None:
    ctx, fakes = make_context()
    _, bob, _ = team(ctx)
    chat = bobs_chat(ctx)
    fakes.publisher.clear()
    posted = inbox.post_agent_message(ctx, bob.actor, chat.conversation_id, body="Hi, Bob here")
    assert posted.created
    assert posted.replies == []
    sender = posted.message.sender
    assert (sender.type, sender.id, sender.display_name) == (SenderType.AGENT, bob.id, "Bob")
    [[created, updated]] = fakes.publisher.batches
    assert isinstance(created, MessageCreated)
    assert created.message == posted.message
    assert isinstance(updated, ConversationUpdated)
    assert not updated.status_changed
    page = customer.conversation_messages(
        ctx, chat.conversation_id, session_id=chat.session_id, after_seq=0, limit=10
    )
    assert page.items[-1] == posted.message


def test_an_agent_retry_returns_the_stored_message() -> None:
    ctx, fakes = make_context()
    _, bob, _ = team(ctx)
    chat = bobs_chat(ctx)
    first = inbox.post_agent_message(
        ctx, bob.actor, chat.conversation_id, body="Hi", client_message_id="k"
    )
    published = len(fakes.publisher.batches)
    again = inbox.post_agent_message(
        ctx, bob.actor, chat.conversation_id, body="Hi", client_message_id="k"
    )
    assert (again.created, again.message) == (False, first.message)
    assert len(fakes.publisher.batches) == published


def test_nobody_but_the_holder_speaks_not_even_an_admin() -> None:
    ctx, fakes = make_context()
    ada, bob, cat = team(ctx)
    chat = bobs_chat(ctx)
    for other in (ada, cat):
        with pytest.raises(NotYourConversation):
            answer(ctx, other, chat)
    automated = start_chat(ctx)
    with pytest.raises(NotWithAgent):
        answer(ctx, bob, automated)
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 2


def test_closing_stores_one_message_and_then_nothing_is_accepted() -> None:
    ctx, fakes = make_context()
    _, bob, _ = team(ctx)
    chat = bobs_chat(ctx)
    fakes.publisher.clear()
    view = inbox.close_conversation(ctx, bob.actor, chat.conversation_id)
    closed = view.conversation
    assert (closed.status, closed.assigned_agent_id, closed.closed_by_id) == (
        Status.CLOSED,
        bob.id,
        bob.id,
    )
    assert closed.closed_at == fakes.clock.peek()
    assert view.last_message is not None
    assert view.last_message.body == "Bob closed the conversation"
    [[created, chat_closed, updated]] = fakes.publisher.batches
    assert isinstance(created, MessageCreated)
    assert isinstance(chat_closed, ChatClosed)
    assert chat_closed.closed_by.id == bob.id
    assert isinstance(updated, ConversationUpdated)
    assert updated.status_changed
    last_seq = closed.last_seq
    refusals: list[Callable[[], object]] = [
        lambda: say(ctx, chat, "still there?"),
        lambda: customer.quick_reply(
            ctx, chat.conversation_id, SAMPLE_FAQS[0].slug, session_id=chat.session_id
        ),
        lambda: escalate(ctx, chat),
        lambda: answer(ctx, bob, chat),
        lambda: inbox.close_conversation(ctx, bob.actor, chat.conversation_id),
    ]
    for refused in refusals:
        with pytest.raises(ConversationClosed):
            refused()
    assert fakes.tables.conversations[chat.conversation_id].last_seq == last_seq
    assert len(fakes.publisher.batches) == 1


def test_an_admin_closes_another_agents_chat_but_an_agent_does_not() -> None:
    ctx, _ = make_context()
    ada, _, cat = team(ctx)
    chat = bobs_chat(ctx)
    with pytest.raises(NotYourConversation):
        inbox.close_conversation(ctx, cat.actor, chat.conversation_id)
    view = inbox.close_conversation(ctx, ada.actor, chat.conversation_id)
    assert view.conversation.closed_by_id == ada.id
    assert view.last_message is not None
    assert view.last_message.body == "Ada closed the conversation"


def test_a_chat_with_the_bot_cannot_be_closed() -> None:
    ctx, _ = make_context()
    _, bob, _ = team(ctx)
    with pytest.raises(NotWithAgent):
        inbox.close_conversation(ctx, bob.actor, start_chat(ctx).conversation_id)


def test_who_may_read_a_conversation() -> None:
    ctx, _ = make_context()
    ada, bob, cat = team(ctx)
    held, automated = bobs_chat(ctx), start_chat(ctx)

    def read(staff: Staff, chat: Chat) -> list[int]:
        page = inbox.agent_messages(ctx, staff.actor, chat.conversation_id, after_seq=0, limit=50)
        return [m.seq for m in page.items]

    assert read(cat, automated) == [1]  # any agent reads what the bot holds
    assert read(bob, held) == read(ada, held) == [1, 2]
    with pytest.raises(NotYourConversation):
        read(cat, held)


def test_listings_show_what_each_agent_may_see_newest_first() -> None:
    ctx, fakes = make_context()
    fakes.clock.tick = timedelta(seconds=1)  # distinct activity times
    ada, bob, cat = team(ctx)
    automated = start_chat(ctx)
    held = bobs_chat(ctx)
    done = bobs_chat(ctx)
    inbox.close_conversation(ctx, bob.actor, done.conversation_id)
    say(ctx, automated, "anyone?")  # newest activity

    def listed(staff: Staff, statuses: frozenset[Status] = inbox.ALL_STATUSES) -> list[str]:
        page = inbox.list_conversations(ctx, staff.actor, statuses=statuses)
        return [view.conversation.id for view in page.items]

    ids = (automated.conversation_id, done.conversation_id, held.conversation_id)
    assert listed(bob) == listed(ada) == list(ids)
    assert listed(cat) == [automated.conversation_id]
    assert listed(bob, frozenset({Status.CLOSED})) == [done.conversation_id]
    page = inbox.list_conversations(ctx, bob.actor)
    assert all(v.last_message is not None for v in page.items)
    assert page.items[0].last_message is not None
    assert page.items[0].last_message.seq == page.items[0].conversation.last_seq


def test_listing_pages_cover_everything_once() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    chats = [start_chat(ctx) for _ in range(7)]  # the clock stands still: ids break ties
    seen: list[str] = []
    cursor = None
    while True:
        page = inbox.list_conversations(ctx, ada.actor, limit=3, after=cursor)
        seen += [view.conversation.id for view in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(c.conversation_id for c in chats)
    assert len(seen) == len(set(seen))
    assert len(fakes.tables.conversations) == 7


def test_a_deactivated_agent_can_do_nothing() -> None:
    ctx, _ = make_context()
    ada, bob, _ = team(ctx)
    chat = bobs_chat(ctx)
    admin.deactivate_agent(ctx, ada.actor, bob.id)
    with pytest.raises(Unauthorized):
        answer(ctx, bob, chat)
    with pytest.raises(Unauthorized):
        inbox.list_conversations(ctx, bob.actor)
