"""What every use case needs: the ports, the server's policy, and one transaction shape."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta

from chatcore.agents import Agent
from chatcore.conversation import Conversation, ConversationView
from chatcore.errors import ConversationNotFound, NotYourConversation, Unauthorized
from chatcore.escalation import UNLIMITED
from chatcore.events import DomainEvent
from chatcore.ports import (
    Clock,
    EventPublisher,
    IdGenerator,
    PasswordHasher,
    TokenService,
    UnitOfWork,
    UnitOfWorkFactory,
)


@dataclass(frozen=True, slots=True)
class Policy:
    agent_capacity: int = UNLIMITED
    presence_grace: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Context:
    """The ports a use case may touch, wired once by the composition root."""

    uow: UnitOfWorkFactory
    publisher: EventPublisher
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    tokens: TokenService
    policy: Policy = Policy()


@dataclass(slots=True)
class Tx:
    uow: UnitOfWork
    events: list[DomainEvent] = field(default_factory=list)

    def record(self, *events: DomainEvent) -> None:
        self.events.extend(events)


@contextmanager
def transaction(ctx: Context, *, write: bool = True) -> Iterator[Tx]:
    """The one place that emits: commit first, then hand the events over.

    Publishing happens while the write unit is still held, so events leave in
    commit order and a conversation's messages are announced in seq order.
    An exception anywhere rolls back and publishes nothing.
    """
    with ctx.uow(write=write) as uow:
        tx = Tx(uow)
        yield tx
        uow.commit()
        if tx.events:
            ctx.publisher.publish(tuple(tx.events))


def view_of(uow: UnitOfWork, conversation: Conversation) -> ConversationView:
    agent = (
        uow.agents.get(conversation.assigned_agent_id) if conversation.assigned_agent_id else None
    )
    return ConversationView(conversation, agent.summary if agent else None)


def full_view_of(uow: UnitOfWork, conversation: Conversation) -> ConversationView:
    """The view with its newest message too, as agent lists and snapshots show it."""
    newest = uow.messages.after(conversation.id, after_seq=conversation.last_seq - 1, limit=1)
    return replace(view_of(uow, conversation), last_message=newest[0] if newest else None)


def load_conversation(uow: UnitOfWork, conversation_id: str) -> Conversation:
    conversation = uow.conversations.get(conversation_id)
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def customer_conversation(
    uow: UnitOfWork, conversation_id: str, *, session_id: str | None
) -> Conversation:
    """The conversation, if ``session_id`` owns it: 404 before 403, compared in constant time."""
    conversation = load_conversation(uow, conversation_id)
    if session_id is None or not hmac.compare_digest(
        conversation.session_id.encode(), session_id.encode()
    ):
        raise NotYourConversation()
    return conversation


def require_agent(uow: UnitOfWork, agent_id: str) -> Agent:
    """The acting agent, re-read inside the transaction: deactivation wins every race."""
    agent = uow.agents.get(agent_id)
    if agent is None or not agent.active:
        raise Unauthorized()
    return agent
