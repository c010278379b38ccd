"""Domain events: what happened, never how it is sent.

Use cases collect them and hand them to the EventPublisher port only after the
unit of work has committed what they report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatcore.agents import AgentSummary
from chatcore.conversation import ConversationView
from chatcore.messages import Message
from chatcore.presence import PresenceStatus


@dataclass(frozen=True, slots=True)
class MessageCreated:
    message: Message
    # Who holds the conversation when the message is stored: they receive it
    # without subscribing.
    assigned_agent_id: str | None


@dataclass(frozen=True, slots=True)
class ConversationUpdated:
    view: ConversationView
    # True when the status moved: every agent hears of it, not only the holder.
    status_changed: bool
    # Who held the conversation before this change (a hand-back clears the holder).
    previous_agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentAssigned:
    conversation_id: str
    agent: AgentSummary


@dataclass(frozen=True, slots=True)
class ChatClosed:
    conversation_id: str
    closed_by: AgentSummary
    closed_at: datetime
    assigned_agent_id: str | None


@dataclass(frozen=True, slots=True)
class AgentPresenceChanged:
    agent_id: str
    display_name: str
    presence: PresenceStatus


@dataclass(frozen=True, slots=True)
class AgentAccessRevoked:
    """Tokens died (logout, password change, deactivation): their sockets must close.

    ``token_ids`` names the dead tokens; ``everything_but`` instead keeps one
    token and kills the rest; both None means every token of the agent.
    """

    agent_id: str
    token_ids: tuple[str, ...] | None = None
    everything_but: str | None = None


DomainEvent = (
    MessageCreated
    | ConversationUpdated
    | AgentAssigned
    | ChatClosed
    | AgentPresenceChanged
    | AgentAccessRevoked
)
