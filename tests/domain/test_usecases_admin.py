"""Deactivation on the fakes: locked out, chats handed over once or given back to the bot."""

from __future__ import annotations

import pytest

from chatcore.agents import Role
from chatcore.conversation import Status
from chatcore.errors import AdminOnly, AgentNotFound, CannotDeactivate, Unauthorized
from chatcore.events import AgentAccessRevoked, AgentAssigned, ConversationUpdated, MessageCreated
from chatcore.messages import SenderType
from chatcore.presence import PresenceStatus
from chatcore.usecases import accounts, admin
from chatcore.usecases.admin import handed_back_text
from support.fakes import Fakes, make_context
from support.usecase_people import (
    Chat,
    escalate,
    first_admin,
    go_online,
    hire,
    log_in,
    set_presence,
    start_chat,
)


def bodies(fakes: Fakes, chat: Chat) -> list[str]:
    return [m.body for m in fakes.tables.messages_of(chat.conversation_id)]


def test_deactivation_locks_the_agent_out() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    bob = hire(ctx, ada, "Bob")
    agent = admin.deactivate_agent(ctx, ada.actor, bob.id)
    assert not agent.active
    assert not fakes.tables.agents[bob.id].active
    assert all(row.agent_id != bob.id for row in fakes.tables.tokens.values())  # tokens dead
    with pytest.raises(Unauthorized):
        accounts.authenticate(ctx, bob.token)
    with pytest.raises(Unauthorized):
        log_in(ctx, "Bob")
    assert AgentAccessRevoked(bob.id) in fakes.publisher.events
    # Again: nothing more happens.
    published = len(fakes.publisher.batches)
    assert not admin.deactivate_agent(ctx, ada.actor, bob.id).active
    assert len(fakes.publisher.batches) == published


def test_open_chats_go_to_another_free_agent_with_one_joined_message() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    bob = go_online(ctx, hire(ctx, ada, "Bob"))
    chats = [start_chat(ctx), start_chat(ctx)]
    for chat in chats:
        assert escalate(ctx, chat) == bob.id  # Ada is offline
    cat = go_online(ctx, hire(ctx, ada, "Cat"))
    fakes.publisher.clear()
    admin.deactivate_agent(ctx, ada.actor, bob.id)
    for chat in chats:
        conversation = fakes.tables.conversations[chat.conversation_id]
        assert (conversation.status, conversation.assigned_agent_id) == (Status.AGENT, cat.id)
        assert bodies(fakes, chat)[1:] == [
            "Bob joined the conversation",
            "Cat joined the conversation",
        ]
    [batch] = fakes.publisher.batches
    assigned = [e for e in batch if isinstance(e, AgentAssigned)]
    assert [e.agent.id for e in assigned] == [cat.id, cat.id]
    updates = [e for e in batch if isinstance(e, ConversationUpdated)]
    assert [(u.previous_agent_id, u.status_changed) for u in updates] == [(bob.id, False)] * 2


def test_with_nobody_free_the_chats_go_back_to_the_bot() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    bob = go_online(ctx, hire(ctx, ada, "Bob"))
    chat = start_chat(ctx)
    escalate(ctx, chat)
    fakes.publisher.clear()
    admin.deactivate_agent(ctx, ada.actor, bob.id)
    conversation = fakes.tables.conversations[chat.conversation_id]
    assert conversation.status is Status.AUTOMATED
    assert (conversation.assigned_agent_id, conversation.escalated_at) == (None, None)
    [*_, notice] = fakes.tables.messages_of(chat.conversation_id)
    assert notice.sender.type is SenderType.SYSTEM
    assert notice.body == handed_back_text(fakes.tables.agents[bob.id])
    [batch] = fakes.publisher.batches
    assert MessageCreated(notice, None) in batch
    [update] = [e for e in batch if isinstance(e, ConversationUpdated)]
    assert (update.status_changed, update.previous_agent_id) == (True, bob.id)
    # The customer may ask for a person again.
    go_online(ctx, ada)
    assert escalate(ctx, chat) == ada.id


def test_handover_respects_capacity_one_chat_at_a_time() -> None:
    ctx, fakes = make_context(capacity=1)
    ada = first_admin(ctx)
    bob = go_online(ctx, hire(ctx, ada, "Bob"))
    cat = go_online(ctx, hire(ctx, ada, "Cat"))
    first, second = start_chat(ctx), start_chat(ctx)
    assert {escalate(ctx, first), escalate(ctx, second)} == {bob.id, cat.id}
    held_by_bob = fakes.tables.conversations[first.conversation_id].assigned_agent_id == bob.id
    bob_holds = first if held_by_bob else second
    set_presence(ctx, cat, PresenceStatus.OFFLINE)  # full anyway; offline makes sure
    dan = go_online(ctx, hire(ctx, ada, "Dan"))
    admin.deactivate_agent(ctx, ada.actor, bob.id)
    assert fakes.tables.conversations[bob_holds.conversation_id].assigned_agent_id == dan.id
    assert fakes.tables.loads() == {cat.id: 1, dan.id: 1}


def test_two_chats_one_free_seat_one_handed_over_one_given_back() -> None:
    ctx, fakes = make_context(capacity=2)
    ada = first_admin(ctx)
    bob = go_online(ctx, hire(ctx, ada, "Bob"))
    chats = [start_chat(ctx), start_chat(ctx)]
    for chat in chats:
        escalate(ctx, chat)
    cat = go_online(ctx, hire(ctx, ada, "Cat"))
    escalate(ctx, start_chat(ctx))  # Cat: one of two seats taken
    admin.deactivate_agent(ctx, ada.actor, bob.id)
    after = [fakes.tables.conversations[c.conversation_id] for c in chats]
    assert {(c.status, c.assigned_agent_id) for c in after} == {
        (Status.AUTOMATED, None),
        (Status.AGENT, cat.id),
    }
    assert fakes.tables.loads() == {cat.id: 2}


def test_what_cannot_be_deactivated() -> None:
    ctx, _ = make_context()
    ada = first_admin(ctx)
    bob = hire(ctx, ada, "Bob")
    with pytest.raises(CannotDeactivate):
        admin.deactivate_agent(ctx, ada.actor, ada.id)
    with pytest.raises(AdminOnly):
        admin.deactivate_agent(ctx, bob.actor, ada.id)
    with pytest.raises(AgentNotFound):
        admin.deactivate_agent(ctx, ada.actor, "no-such-agent")
    # A second admin may deactivate the first; the one left can never go.
    boss = hire(ctx, ada, "Boss", role=Role.ADMIN)
    admin.deactivate_agent(ctx, boss.actor, ada.id)
    with pytest.raises(CannotDeactivate):
        admin.deactivate_agent(ctx, boss.actor, boss.id)
    assert [a.id for a in admin.list_agents(ctx, boss.actor) if a.active and a.is_admin] == [
        boss.id
    ]
