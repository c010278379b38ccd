"""Putting an agent on a conversation: shared by escalation and by deactivation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chatcore.agents import Agent
from chatcore.bot import SYSTEM_NAME
from chatcore.conversation import Conversation
from chatcore.escalation import choose_agent
from chatcore.events import AgentAssigned, ConversationUpdated, MessageCreated
from chatcore.messages import Message, Sender, SenderType
from chatcore.usecases._base import Context, Tx, view_of

SYSTEM = Sender(SenderType.SYSTEM, None, SYSTEM_NAME)


def joined_text(agent: Agent) -> str:
    return f"{agent.display_name} joined the conversation"


def free_agent(
    ctx: Context, tx: Tx, *, now: datetime, excluding: str | None = None
) -> Agent | None:
    """Pick by the assignment policy and mark the pick as assigned now."""
    candidates = [c for c in tx.uow.agents.candidates() if c.agent_id != excluding]
    chosen = choose_agent(candidates, capacity=ctx.policy.agent_capacity)
    if chosen is None:
        return None
    agent = tx.uow.agents.get(chosen.agent_id)
    if agent is None:  # the repository just listed it inside this very transaction
        raise LookupError(chosen.agent_id)
    agent.last_assigned_at = now
    tx.uow.agents.save(agent)
    return agent


def post_system_message(
    ctx: Context, tx: Tx, conversation: Conversation, text: str, *, now: datetime
) -> Message:
    message = conversation.append(SYSTEM, text, message_id=ctx.ids.new_id(), now=now)
    tx.uow.messages.add(message)
    return message


def announce_assignment(
    ctx: Context,
    tx: Tx,
    conversation: Conversation,
    agent: Agent,
    *,
    now: datetime,
    previous_agent_id: str | None,
    status_changed: bool,
) -> None:
    """One "joined" message, then agent.assigned, conversation.updated, message.created."""
    message = post_system_message(ctx, tx, conversation, joined_text(agent), now=now)
    tx.uow.conversations.save(conversation)
    view = replace(view_of(tx.uow, conversation), last_message=message)
    tx.record(
        AgentAssigned(conversation.id, agent.summary),
        ConversationUpdated(
            view, status_changed=status_changed, previous_agent_id=previous_agent_id
        ),
        MessageCreated(message, conversation.assigned_agent_id),
    )
