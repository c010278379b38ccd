"""The contract's resources as msgspec Structs, and the one way domain objects become them.

Shared by the HTTP and realtime adapters so a conversation looks the same on
every channel. Nothing here carries a password hash or a customer session id:
those never leave the server (the session id only in the start answer, which
builds its own envelope).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from chatcore.agents import Agent, AgentSummary, Role
from chatcore.bot import FaqEntry
from chatcore.conversation import ConversationView, Status
from chatcore.messages import Message, SenderType
from chatcore.presence import PresenceStatus

Timestamp = Annotated[
    str,
    Meta(
        description="RFC 3339 UTC with milliseconds",
        examples=["2026-11-25T21:49:26.123Z"],
        extra_json_schema={"format": "date-time"},
    ),
]
Id = Annotated[str, Meta(description="A UUID string")]


def timestamp(moment: datetime) -> str:
    """``2026-11-25T21:49:26.123Z``: UTC, milliseconds, a Z."""
    # isoformat, not strftime: several of these go into every event, and it is ~5x faster.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _maybe_timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else timestamp(moment)


class SenderOut(msgspec.Struct, frozen=True):
    type: SenderType
    id: Id | None
    display_name: str


class MessageOut(msgspec.Struct, frozen=True):
    id: Id
    conversation_id: Id
    seq: Annotated[int, Meta(ge=1)]
    sender: SenderOut
    body: str
    faq_slug: str | None
    client_message_id: str | None
    created_at: Timestamp


class CustomerOut(msgspec.Struct, frozen=True):
    display_name: str
    email: str | None


class AssignedAgentOut(msgspec.Struct, frozen=True):
    """What anyone, a customer included, may know of an agent: never the email."""

    id: Id
    display_name: str
    presence: PresenceStatus


class ConversationOut(msgspec.Struct, frozen=True):
    id: Id
    status: Status
    customer: CustomerOut
    assigned_agent: AssignedAgentOut | None
    created_at: Timestamp
    updated_at: Timestamp
    escalated_at: Timestamp | None
    closed_at: Timestamp | None
    last_seq: Annotated[int, Meta(ge=0)]


class ConversationWithLastMessage(ConversationOut, frozen=True):
    """A conversation as agent listings show it."""

    last_message: MessageOut | None


class AgentOut(msgspec.Struct, frozen=True):
    id: Id
    email: str
    display_name: str
    role: Role
    presence: PresenceStatus
    active: bool
    created_at: Timestamp


class QuickQuestionOut(msgspec.Struct, frozen=True):
    slug: str
    question: str


class FaqOut(msgspec.Struct, frozen=True):
    slug: str
    question: str
    answer: str
    position: int


def message_out(message: Message) -> MessageOut:
    sender = message.sender
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        seq=message.seq,
        sender=SenderOut(sender.type, sender.id, sender.display_name),
        body=message.body,
        faq_slug=message.faq_slug,
        client_message_id=message.client_message_id,
        created_at=timestamp(message.created_at),
    )


def assigned_agent_out(summary: AgentSummary) -> AssignedAgentOut:
    return AssignedAgentOut(summary.id, summary.display_name, summary.presence)


def conversation_out(view: ConversationView) -> ConversationOut:
    conversation = view.conversation
    agent = view.assigned_agent
    return ConversationOut(
        id=conversation.id,
        status=conversation.status,
        customer=CustomerOut(conversation.customer.display_name, conversation.customer.email),
        assigned_agent=assigned_agent_out(agent) if agent else None,
        created_at=timestamp(conversation.created_at),
        updated_at=timestamp(conversation.updated_at),
        escalated_at=_maybe_timestamp(conversation.escalated_at),
        closed_at=_maybe_timestamp(conversation.closed_at),
        last_seq=conversation.last_seq,
    )


def conversation_listing_out(view: ConversationView) -> ConversationWithLastMessage:
    last = message_out(view.last_message) if view.last_message else None
    fields = msgspec.structs.asdict(conversation_out(view))
    return ConversationWithLastMessage(**fields, last_message=last)


def agent_out(agent: Agent) -> AgentOut:
    return AgentOut(
        id=agent.id,
        email=agent.email,
        display_name=agent.display_name,
        role=agent.role,
        presence=agent.shown_presence,
        active=agent.active,
        created_at=timestamp(agent.created_at),
    )


def quick_question_out(entry: FaqEntry) -> QuickQuestionOut:
    return QuickQuestionOut(entry.slug, entry.question)


def faq_out(entry: FaqEntry) -> FaqOut:
    return FaqOut(entry.slug, entry.question, entry.answer, entry.position)
