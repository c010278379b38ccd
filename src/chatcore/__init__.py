"""chatcore: the pure domain of a customer-support live chat, importable as a library.

Standard library only: conversations, escalation, presence and the bot as
state machines and policies, the ports they need, and the use cases that
drive them. Bring your own adapters, or use the ones in ``adapters``
(``adapters.memory`` needs nothing but the standard library); docs/library.md
shows a whole support case.

``__all__`` is the public API. Everything else is internal and may change:
underscored modules (``chatcore.usecases._base``, ``_assign``), the transition
tables and helpers inside the modules, and every adapter's internals.
"""

from chatcore import usecases
from chatcore.agents import Agent, AgentSummary, Role
from chatcore.bot import FaqEntry, best_answer
from chatcore.conversation import Conversation, ConversationView, Customer, Status
from chatcore.errors import (
    AdminOnly,
    AgentNotFound,
    CannotDeactivate,
    ConversationClosed,
    ConversationNotFound,
    DomainError,
    EmailTaken,
    FaqNotFound,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NoAgentAvailable,
    NotFound,
    NotWithAgent,
    NotWithBot,
    NotYourConversation,
    SlugTaken,
    Unauthorized,
)
from chatcore.escalation import Candidate, choose_agent
from chatcore.events import (
    AgentAccessRevoked,
    AgentAssigned,
    AgentPresenceChanged,
    ChatClosed,
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
)
from chatcore.messages import Message, Sender, SenderType
from chatcore.ports import (
    AccessTokenRepository,
    AgentRepository,
    Clock,
    ConversationListing,
    ConversationRepository,
    CustomerSessionRepository,
    EventPublisher,
    FaqRepository,
    IdGenerator,
    IssuedToken,
    ListingCursor,
    MessageRepository,
    PasswordHasher,
    ServerInstanceRepository,
    StorageUnavailable,
    TokenClaims,
    TokenService,
    UnitOfWork,
    UnitOfWorkFactory,
)
from chatcore.presence import Link, Presence, PresenceStatus
from chatcore.usecases import (
    Actor,
    Context,
    ConversationPage,
    MessagePage,
    Policy,
    Posted,
    Session,
    StartedConversation,
)

# Grouped by kind (use cases, entities, events, errors, ports) in docs/library.md.
__all__ = [
    "AccessTokenRepository",
    "Actor",
    "AdminOnly",
    "Agent",
    "AgentAccessRevoked",
    "AgentAssigned",
    "AgentNotFound",
    "AgentPresenceChanged",
    "AgentRepository",
    "AgentSummary",
    "Candidate",
    "CannotDeactivate",
    "ChatClosed",
    "Clock",
    "Context",
    "Conversation",
    "ConversationClosed",
    "ConversationListing",
    "ConversationNotFound",
    "ConversationPage",
    "ConversationRepository",
    "ConversationUpdated",
    "ConversationView",
    "Customer",
    "CustomerSessionRepository",
    "DomainError",
    "DomainEvent",
    "EmailTaken",
    "EventPublisher",
    "FaqEntry",
    "FaqNotFound",
    "FaqRepository",
    "Forbidden",
    "IdGenerator",
    "InvalidInput",
    "InvalidTransition",
    "IssuedToken",
    "Link",
    "ListingCursor",
    "Message",
    "MessageCreated",
    "MessagePage",
    "MessageRepository",
    "NoAgentAvailable",
    "NotFound",
    "NotWithAgent",
    "NotWithBot",
    "NotYourConversation",
    "PasswordHasher",
    "Policy",
    "Posted",
    "Presence",
    "PresenceStatus",
    "Role",
    "Sender",
    "SenderType",
    "ServerInstanceRepository",
    "Session",
    "SlugTaken",
    "StartedConversation",
    "Status",
    "StorageUnavailable",
    "TokenClaims",
    "TokenService",
    "Unauthorized",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "best_answer",
    "choose_agent",
    "usecases",
]
