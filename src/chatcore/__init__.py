"""chatcore: the pure domain of a customer-support live chat.

Standard library only: conversations, escalation, presence and the bot as
state machines and policies, the ports they need, and the use cases that
drive them. Bring your own adapters, or use the ones in ``adapters``.
"""

from chatcore.agents import Agent, AgentSummary, Role
from chatcore.bot import FaqEntry, best_answer
from chatcore.conversation import Conversation, ConversationView, Customer, Status
from chatcore.escalation import Candidate, choose_agent
from chatcore.messages import Message, Sender, SenderType
from chatcore.presence import Presence, PresenceStatus

__all__ = [
    "Agent",
    "AgentSummary",
    "Candidate",
    "Conversation",
    "ConversationView",
    "Customer",
    "FaqEntry",
    "Message",
    "Presence",
    "PresenceStatus",
    "Role",
    "Sender",
    "SenderType",
    "Status",
    "best_answer",
    "choose_agent",
]
