"""Ports: what the domain needs from the outside world, as small Protocols.

Adapters implement these; domain tests use fakes of them; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from chatcore.agents import Agent
from chatcore.bot import FaqEntry
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.escalation import Candidate
from chatcore.events import DomainEvent
from chatcore.messages import Message, SenderType
from chatcore.presence import Link


class StorageUnavailable(Exception):
    """The store did not answer in time (locked too long, connection lost).

    Not a refusal of the domain: the request was fine and may be retried, so
    adapters answer it as "try again" (HTTP 503), never as the client's fault.
    """


@dataclass(frozen=True, slots=True)
class ListingCursor:
    """Where a page of conversations left off: newest activity first, the id breaks ties."""

    updated_at: datetime
    conversation_id: str


@dataclass(frozen=True, slots=True)
class ConversationListing:
    """Which conversations an agent's list shows.

    AUTOMATED ones are everyone's. AGENT ones are the viewer's own, CLOSED ones
    those the viewer held or closed; ``viewer_id`` None (an admin) sees them all.
    """

    statuses: frozenset[Status]
    viewer_id: str | None
    limit: int
    after: ListingCursor | None = None


class ConversationRepository(Protocol):
    def add(self, conversation: Conversation) -> None: ...
    def get(self, conversation_id: str) -> Conversation | None: ...
    def save(self, conversation: Conversation) -> None: ...
    def held_by(self, agent_id: str, *, status: Status) -> list[Conversation]: ...
    def listing(self, query: ConversationListing) -> list[ConversationView]:
        """At most ``query.limit`` views, newest activity first, each with its last message."""
        ...


class MessageRepository(Protocol):
    def add(self, message: Message) -> None: ...
    def after(self, conversation_id: str, *, after_seq: int, limit: int) -> list[Message]:
        """Up to ``limit`` messages with seq > after_seq, ascending."""
        ...

    def by_client_id(
        self,
        conversation_id: str,
        *,
        sender_type: SenderType,
        sender_id: str | None,
        client_message_id: str,
    ) -> Message | None: ...
    def replies_to(self, message_id: str) -> list[Message]:
        """The bot answers stored for one customer message, ascending by seq."""
        ...


class AgentRepository(Protocol):
    def add(self, agent: Agent) -> None: ...
    def get(self, agent_id: str) -> Agent | None: ...
    def by_email(self, email: str) -> Agent | None: ...
    def save(self, agent: Agent) -> None: ...
    def all(self) -> list[Agent]: ...
    def with_link(self, link: Link) -> list[Agent]:
        """The agents whose connections are in this state: the presence timers' work list."""
        ...

    def count(self) -> int: ...
    def candidates(self) -> list[Candidate]:
        """Every active agent with its AGENT load, for the assignment policy."""
        ...


class FaqRepository(Protocol):
    def add(self, entry: FaqEntry) -> None: ...
    def get(self, slug: str) -> FaqEntry | None: ...
    def save(self, entry: FaqEntry) -> None: ...
    def delete(self, slug: str) -> None: ...
    def all(self) -> list[FaqEntry]:
        """In display order."""
        ...


class CustomerSessionRepository(Protocol):
    def add(self, session_id: str, *, created_at: datetime) -> None: ...
    def exists(self, session_id: str) -> bool: ...


class AccessTokenRepository(Protocol):
    """Live agent tokens by id (jti): a token is valid only while its row is here."""

    def add(self, token_id: str, *, agent_id: str, expires_at: datetime) -> None: ...
    def is_live(self, token_id: str, *, agent_id: str, now: datetime) -> bool:
        """Stored for that agent and unexpired: an id is never taken for another's."""
        ...

    def revoke(self, token_id: str) -> None: ...
    def revoke_all(self, agent_id: str, *, keep: str | None = None) -> None: ...
    def purge_expired(self, *, now: datetime) -> None: ...


class ServerInstanceRepository(Protocol):
    """The server processes holding agents' sockets, and how many each holds per agent.

    An agent's presence counts its connections on every instance; these rows say
    whose they are, so that an instance that dies without a goodbye takes only its
    own away when another finds it silent. In one unit of work, touch these rows
    before any agent's: storages that lock rows then always lock in that order.
    """

    def beat(self, instance_id: str, *, now: datetime) -> bool:
        """The instance is alive now; False when it was not known (new, or given up)."""
        ...

    def is_known(self, instance_id: str) -> bool:
        """Known, and kept known until this unit of work ends (nobody forgets it meanwhile)."""
        ...

    def count_connection(self, instance_id: str, agent_id: str) -> None: ...
    def uncount_connection(self, instance_id: str, agent_id: str) -> bool:
        """One connection fewer; False when this instance had none counted for the agent."""
        ...

    def silent_since(self, moment: datetime) -> list[str]:
        """The instances last heard from at or before ``moment``."""
        ...

    def forget(self, instance_id: str) -> dict[str, int]:
        """Drop the instance and its counts; what it held, by agent id (empty if gone)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without commit() rolls back."""

    conversations: ConversationRepository
    messages: MessageRepository
    agents: AgentRepository
    faqs: FaqRepository
    sessions: CustomerSessionRepository
    tokens: AccessTokenRepository
    instances: ServerInstanceRepository

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = True) -> UnitOfWork:
        """A write unit serializes with every other writer; a read unit never blocks them."""
        ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Called after commit, in commit order; must not block (hand off, do not send)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC, truncated to milliseconds (what the wire shows is what is stored)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A fresh UUID string."""
        ...

    def new_secret(self) -> str:
        """A fresh unguessable secret of at least 128 random bits."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password: str, hashed: str | None) -> bool:
        """``hashed`` None: no such account; spend the same time and answer False."""
        ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    agent_id: str
    token_id: str
    expires_at: datetime


class TokenService(Protocol):
    def issue(self, agent_id: str, *, token_id: str, now: datetime) -> IssuedToken: ...
    def read(self, token: str, *, now: datetime) -> TokenClaims:
        """The claims of a genuine, unexpired token; Unauthorized for anything else."""
        ...
