"""The conversation state machine: AUTOMATED → AGENT → CLOSED.

Sans-I/O, in the manner of h11's ``_state.py``: every next status comes from the
table below, looked up in one place (``next_status``) and entered in one place
(``_fire``); each event has one function; a refused pair raises the domain
error named in ``REFUSALS``. Time comes in as an argument.

    AUTOMATED ──escalate──▶ AGENT ──close──▶ CLOSED
        ▲                     │
        └───── hand_back ─────┘   (only when an admin deactivates the agent)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum

from chatcore.agents import AgentSummary
from chatcore.errors import (
    ConversationClosed,
    InvalidTransition,
    NotWithAgent,
    NotWithBot,
    NotYourConversation,
)
from chatcore.messages import Message, Sender, SenderType


class Status(StrEnum):
    AUTOMATED = "automated"
    AGENT = "agent"
    CLOSED = "closed"


class Trigger(Enum):
    CUSTOMER_WRITES = "customer_writes"
    QUICK_REPLY = "quick_reply"
    ESCALATE = "escalate"
    AGENT_WRITES = "agent_writes"
    CLOSE = "close"
    REASSIGN = "reassign"
    HAND_BACK = "hand_back"


TRANSITIONS: dict[Status, dict[Trigger, Status]] = {
    Status.AUTOMATED: {
        Trigger.CUSTOMER_WRITES: Status.AUTOMATED,
        Trigger.QUICK_REPLY: Status.AUTOMATED,
        Trigger.ESCALATE: Status.AGENT,
    },
    Status.AGENT: {
        # Customers may keep writing while their agent is offline.
        Trigger.CUSTOMER_WRITES: Status.AGENT,
        Trigger.AGENT_WRITES: Status.AGENT,
        # Escalating again is a no-op that answers with the same assignment.
        Trigger.ESCALATE: Status.AGENT,
        Trigger.CLOSE: Status.CLOSED,
        Trigger.REASSIGN: Status.AGENT,
        Trigger.HAND_BACK: Status.AUTOMATED,
    },
    Status.CLOSED: {},
}

# The error for a pair missing from TRANSITIONS, by state.
REFUSALS: dict[Status, type[InvalidTransition]] = {
    Status.AUTOMATED: NotWithAgent,
    Status.AGENT: NotWithBot,
    Status.CLOSED: ConversationClosed,
}


@dataclass(frozen=True, slots=True)
class Customer:
    display_name: str
    email: str | None = None


@dataclass(slots=True)
class Conversation:
    id: str
    session_id: str
    customer: Customer
    created_at: datetime
    updated_at: datetime
    status: Status = Status.AUTOMATED
    assigned_agent_id: str | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by_id: str | None = None
    last_seq: int = 0

    def append(
        self,
        sender: Sender,
        body: str,
        *,
        message_id: str,
        now: datetime,
        faq_slug: str | None = None,
        client_message_id: str | None = None,
        reply_to: str | None = None,
    ) -> Message:
        """The next message, with the next seq: dense, never reused."""
        self.last_seq += 1
        self.updated_at = now
        return Message(
            id=message_id,
            conversation_id=self.id,
            seq=self.last_seq,
            sender=sender,
            body=body,
            created_at=now,
            faq_slug=faq_slug,
            client_message_id=client_message_id,
            reply_to=reply_to,
        )


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation as its readers see it: with who holds it, and the newest message."""

    conversation: Conversation
    assigned_agent: AgentSummary | None
    last_message: Message | None = field(default=None)


def customer_sender(conversation: Conversation) -> Sender:
    return Sender(SenderType.CUSTOMER, None, conversation.customer.display_name)


def next_status(conversation: Conversation, trigger: Trigger) -> Status:
    """The table's entry for the conversation's status and ``trigger``.

    A pair the table lacks is refused: this raises the state's error from ``REFUSALS``.
    """
    target = TRANSITIONS[conversation.status].get(trigger)
    if target is None:
        raise REFUSALS[conversation.status]()
    return target


def _fire(conversation: Conversation, trigger: Trigger) -> None:
    # The one place a conversation's status is assigned (building one aside).
    conversation.status = next_status(conversation, trigger)


def has_agent(conversation: Conversation) -> bool:
    """An agent holds the chat: escalating again changes nothing."""
    return conversation.status is Status.AGENT


def ensure_escalation_allowed(conversation: Conversation) -> None:
    """Raise the state's refusal (a closed chat) before anyone looks for an agent."""
    next_status(conversation, Trigger.ESCALATE)


# One function per event. Each fires the table first (a refusal changes nothing),
# then sets what the event owns besides the status.


def customer_writes(conversation: Conversation) -> None:
    _fire(conversation, Trigger.CUSTOMER_WRITES)


def quick_reply(conversation: Conversation) -> None:
    _fire(conversation, Trigger.QUICK_REPLY)


def escalate(conversation: Conversation, *, agent_id: str, now: datetime) -> bool:
    """Hand the chat to ``agent_id``; False (and nothing changes) when an agent has it."""
    already_held = has_agent(conversation)
    _fire(conversation, Trigger.ESCALATE)
    if already_held:
        return False
    conversation.assigned_agent_id = agent_id
    conversation.escalated_at = now
    conversation.updated_at = now
    return True


def readable_by(conversation: Conversation, agent_id: str, *, is_admin: bool) -> bool:
    """Any agent reads what the bot holds; the rest only its holder (or closer), or an admin.

    Over REST and for a WebSocket subscription alike: a subscription taken while the
    bot held the chat ends when another agent takes it.
    """
    return (
        conversation.status is Status.AUTOMATED
        or is_admin
        or agent_id in (conversation.assigned_agent_id, conversation.closed_by_id)
    )


def agent_writes(conversation: Conversation, *, agent_id: str) -> None:
    if conversation.assigned_agent_id not in (None, agent_id):
        raise NotYourConversation()
    _fire(conversation, Trigger.AGENT_WRITES)


def close(conversation: Conversation, *, by_agent_id: str, by_admin: bool, now: datetime) -> None:
    if conversation.assigned_agent_id not in (None, by_agent_id) and not by_admin:
        raise NotYourConversation()
    _fire(conversation, Trigger.CLOSE)
    conversation.closed_at = now
    conversation.closed_by_id = by_agent_id
    conversation.updated_at = now


def reassign(conversation: Conversation, *, agent_id: str, now: datetime) -> None:
    _fire(conversation, Trigger.REASSIGN)
    conversation.assigned_agent_id = agent_id
    conversation.updated_at = now


def hand_back(conversation: Conversation, *, now: datetime) -> None:
    _fire(conversation, Trigger.HAND_BACK)
    conversation.assigned_agent_id = None
    conversation.escalated_at = None
    conversation.updated_at = now
