"""One transaction shape: commit, then publish; a failure anywhere stores and publishes nothing.

Also checks what the domain tests lean on in the memory store (the storage
contract, tests/adapters/test_memory_storage.py, checks the rest).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatcore.conversation import Status
from chatcore.errors import NoAgentAvailable, NotYourConversation
from chatcore.usecases import customer, transaction
from support.fakes import CommitFailed, IntegrityError, make_context
from support.usecase_people import escalate, first_admin, go_online, say, start_chat


def test_a_failed_commit_stores_and_publishes_nothing() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    published, before = len(fakes.publisher.batches), fakes.tables.messages.copy()
    fakes.db.fail_next_commit = True
    with pytest.raises(CommitFailed):
        say(ctx, chat, "How do I reset my password?")
    assert len(fakes.publisher.batches) == published
    assert fakes.tables.messages == before
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 1
    assert say(ctx, chat, "again").message.seq == 2  # the seq was never used


def test_a_failed_escalation_commit_leaves_the_agent_unassigned() -> None:
    ctx, fakes = make_context()
    ada = go_online(ctx, first_admin(ctx))
    chat = start_chat(ctx)
    published = len(fakes.publisher.batches)
    fakes.db.fail_next_commit = True
    with pytest.raises(CommitFailed):
        escalate(ctx, chat)
    assert fakes.tables.agents[ada.id].last_assigned_at is None
    assert fakes.tables.conversations[chat.conversation_id].status is Status.AUTOMATED
    assert len(fakes.publisher.batches) == published


def test_a_refused_use_case_publishes_nothing() -> None:
    ctx, fakes = make_context()
    chat, other = start_chat(ctx), start_chat(ctx)
    published = len(fakes.publisher.batches)
    with pytest.raises(NoAgentAvailable):
        escalate(ctx, chat)
    with pytest.raises(NotYourConversation):
        customer.post_customer_message(
            ctx, chat.conversation_id, session_id=other.session_id, body="hi"
        )
    assert len(fakes.publisher.batches) == published


def test_every_batch_was_published_after_its_commit() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    commits = fakes.db.commits
    say(ctx, chat, "hello")
    assert fakes.db.commits == commits + 1
    # RecordingPublisher checked at publish time that the writer had committed and
    # that each reported message and conversation was stored as reported.
    assert len(fakes.publisher.batches) == 2


def test_leaving_a_unit_without_commit_discards_its_changes() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    with ctx.uow() as uow:
        conversation = uow.conversations.get(chat.conversation_id)
        assert conversation is not None
        conversation.status = Status.CLOSED
        uow.conversations.save(conversation)
        assert uow.conversations.get(chat.conversation_id) == conversation
    assert fakes.tables.conversations[chat.conversation_id].status is Status.AUTOMATED


def test_a_change_that_is_not_saved_does_not_leak() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    with transaction(ctx) as tx:
        conversation = tx.uow.conversations.get(chat.conversation_id)
        assert conversation is not None
        conversation.last_seq = 99
        stored = tx.uow.conversations.get(chat.conversation_id)
        assert stored is not None
        assert stored.last_seq == 1
    assert fakes.tables.conversations[chat.conversation_id].last_seq == 1


def test_the_store_refuses_what_a_database_would() -> None:
    ctx, fakes = make_context()
    chat = start_chat(ctx)
    greeting = fakes.tables.messages_of(chat.conversation_id)[0]
    with transaction(ctx) as tx, pytest.raises(IntegrityError):
        tx.uow.messages.add(replace(greeting, id="another-id"))  # seq 1 is taken
    with transaction(ctx, write=False) as tx, pytest.raises(RuntimeError, match="read unit"):
        tx.uow.sessions.add("s", created_at=fakes.clock.now())
    with fakes.db() as outer:
        assert outer.write
        with pytest.raises(RuntimeError, match="do not nest"):
            fakes.db().__enter__()  # a second unit on this thread would wait forever
