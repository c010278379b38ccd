"""In-memory storage behind chatcore's repository and unit-of-work ports.

A unit of work copies the committed tables when it is entered and works on the
copy; commit() puts the copy back, leaving without commit() drops it. Entities
are mutable dataclasses, so repositories hand out and keep copies (and never
change a stored one in place): a change the use case never saves is lost, as it
would be with a real database. Constraints
a real schema would enforce (unique keys, foreign keys) raise IntegrityError.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

from chatcore.agents import Agent
from chatcore.bot import FaqEntry, display_order
from chatcore.conversation import Conversation, ConversationView, Status
from chatcore.escalation import Candidate
from chatcore.messages import Message, SenderType
from chatcore.ports import (
    AccessTokenRepository,
    AgentRepository,
    ConversationListing,
    ConversationRepository,
    CustomerSessionRepository,
    FaqRepository,
    MessageRepository,
    ServerInstanceRepository,
)
from chatcore.presence import Link


class IntegrityError(Exception):
    """What a database constraint would refuse."""


class CommitFailed(Exception):
    """Injected by a test: the storage gave up at commit time."""


@dataclass(frozen=True, slots=True)
class TokenRow:
    agent_id: str
    expires_at: datetime


@dataclass(slots=True)
class Tables:
    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)  # by id, in insertion order
    agents: dict[str, Agent] = field(default_factory=dict)
    faqs: dict[str, FaqEntry] = field(default_factory=dict)
    sessions: dict[str, datetime] = field(default_factory=dict)
    tokens: dict[str, TokenRow] = field(default_factory=dict)
    # Server instances: last heard from; connections counted by (instance, agent).
    instances: dict[str, datetime] = field(default_factory=dict)
    held: dict[tuple[str, str], int] = field(default_factory=dict)

    def copy(self) -> Tables:
        # Shallow is enough: repositories never change a stored entity in place, they
        # put a fresh copy in its slot; and messages are frozen.
        return Tables(
            conversations=dict(self.conversations),
            messages=dict(self.messages),
            agents=dict(self.agents),
            faqs=dict(self.faqs),
            sessions=dict(self.sessions),
            tokens=dict(self.tokens),
            instances=dict(self.instances),
            held=dict(self.held),
        )

    def messages_of(self, conversation_id: str) -> list[Message]:
        found = [m for m in self.messages.values() if m.conversation_id == conversation_id]
        return sorted(found, key=lambda m: m.seq)

    def loads(self) -> dict[str, int]:
        held = Counter(
            c.assigned_agent_id
            for c in self.conversations.values()
            if c.status is Status.AGENT and c.assigned_agent_id is not None
        )
        return dict(held)


class _Repository:
    def __init__(self, unit: FakeUnitOfWork) -> None:
        self._unit = unit

    @property
    def _tables(self) -> Tables:
        return self._unit.tables

    def _writable(self) -> Tables:
        if not self._unit.write:
            raise AssertionError("a read unit of work must not write")
        return self._unit.tables


class InMemoryConversations(_Repository):
    def add(self, conversation: Conversation) -> None:
        tables = self._writable()
        if conversation.id in tables.conversations:
            raise IntegrityError(f"conversation {conversation.id} exists")
        if conversation.session_id not in tables.sessions:
            raise IntegrityError(f"no customer session {conversation.session_id}")
        tables.conversations[conversation.id] = replace(conversation)

    def get(self, conversation_id: str) -> Conversation | None:
        found = self._tables.conversations.get(conversation_id)
        return replace(found) if found else None

    def save(self, conversation: Conversation) -> None:
        tables = self._writable()
        if conversation.id not in tables.conversations:
            raise IntegrityError(f"no conversation {conversation.id} to save")
        holder = conversation.assigned_agent_id
        if holder is not None and holder not in tables.agents:
            raise IntegrityError(f"no agent {holder}")
        tables.conversations[conversation.id] = replace(conversation)

    def held_by(self, agent_id: str, *, status: Status) -> list[Conversation]:
        held = [
            replace(c)
            for c in self._tables.conversations.values()
            if c.assigned_agent_id == agent_id and c.status is status
        ]
        return sorted(held, key=lambda c: (c.created_at, c.id))

    def listing(self, query: ConversationListing) -> list[ConversationView]:
        tables = self._tables
        shown = [c for c in tables.conversations.values() if _visible(c, query)]
        if query.after is not None:
            mark = (query.after.updated_at, query.after.conversation_id)
            shown = [c for c in shown if (c.updated_at, c.id) < mark]
        shown.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
        return [_view(tables, c) for c in shown[: query.limit]]


def _visible(conversation: Conversation, query: ConversationListing) -> bool:
    if conversation.status not in query.statuses:
        return False
    if conversation.status is Status.AUTOMATED or query.viewer_id is None:
        return True
    if conversation.status is Status.AGENT:
        return conversation.assigned_agent_id == query.viewer_id
    return query.viewer_id in (conversation.assigned_agent_id, conversation.closed_by_id)


def _view(tables: Tables, conversation: Conversation) -> ConversationView:
    holder = tables.agents.get(conversation.assigned_agent_id or "")
    last = next(
        (
            m
            for m in tables.messages.values()
            if m.conversation_id == conversation.id and m.seq == conversation.last_seq
        ),
        None,
    )
    return ConversationView(replace(conversation), holder.summary if holder else None, last)


class InMemoryMessages(_Repository):
    def add(self, message: Message) -> None:
        tables = self._writable()
        if message.id in tables.messages:
            raise IntegrityError(f"message {message.id} exists")
        if message.conversation_id not in tables.conversations:
            raise IntegrityError(f"no conversation {message.conversation_id}")
        for other in tables.messages.values():
            if other.conversation_id != message.conversation_id:
                continue
            if other.seq == message.seq:
                raise IntegrityError(f"seq {message.seq} is taken")
            if message.client_message_id is not None and _same_client_key(other, message):
                raise IntegrityError(f"client_message_id {message.client_message_id} is taken")
        tables.messages[message.id] = message

    def after(self, conversation_id: str, *, after_seq: int, limit: int) -> list[Message]:
        later = [m for m in self._tables.messages_of(conversation_id) if m.seq > after_seq]
        return later[:limit]

    def by_client_id(
        self,
        conversation_id: str,
        *,
        sender_type: SenderType,
        sender_id: str | None,
        client_message_id: str,
    ) -> Message | None:
        for message in self._tables.messages_of(conversation_id):
            if (
                message.sender.type is sender_type
                and message.sender.id == sender_id
                and message.client_message_id == client_message_id
            ):
                return message
        return None

    def replies_to(self, message_id: str) -> list[Message]:
        replies = [m for m in self._tables.messages.values() if m.reply_to == message_id]
        return sorted(replies, key=lambda m: m.seq)


def _same_client_key(one: Message, other: Message) -> bool:
    return (one.sender.type, one.sender.id, one.client_message_id) == (
        other.sender.type,
        other.sender.id,
        other.client_message_id,
    )


class InMemoryAgents(_Repository):
    def add(self, agent: Agent) -> None:
        tables = self._writable()
        if agent.id in tables.agents:
            raise IntegrityError(f"agent {agent.id} exists")
        if any(a.email == agent.email for a in tables.agents.values()):
            raise IntegrityError(f"email {agent.email} is taken")
        tables.agents[agent.id] = replace(agent)

    def get(self, agent_id: str) -> Agent | None:
        found = self._tables.agents.get(agent_id)
        return replace(found) if found else None

    def by_email(self, email: str) -> Agent | None:
        found = next((a for a in self._tables.agents.values() if a.email == email), None)
        return replace(found) if found else None

    def save(self, agent: Agent) -> None:
        tables = self._writable()
        if agent.id not in tables.agents:
            raise IntegrityError(f"no agent {agent.id} to save")
        if any(a.email == agent.email and a.id != agent.id for a in tables.agents.values()):
            raise IntegrityError(f"email {agent.email} is taken")
        tables.agents[agent.id] = replace(agent)

    def all(self) -> list[Agent]:
        agents = sorted(self._tables.agents.values(), key=lambda a: (a.created_at, a.id))
        return [replace(a) for a in agents]

    def with_link(self, link: Link) -> list[Agent]:
        return [a for a in self.all() if a.presence.link is link]

    def count(self) -> int:
        return len(self._tables.agents)

    def candidates(self) -> list[Candidate]:
        loads = self._tables.loads()
        return [
            Candidate(a.id, a.shown_presence, a.active, loads.get(a.id, 0), a.last_assigned_at)
            for a in self.all()
            if a.active
        ]


class InMemoryFaqs(_Repository):
    def add(self, entry: FaqEntry) -> None:
        tables = self._writable()
        if entry.slug in tables.faqs:
            raise IntegrityError(f"slug {entry.slug} is taken")
        tables.faqs[entry.slug] = replace(entry)

    def get(self, slug: str) -> FaqEntry | None:
        found = self._tables.faqs.get(slug)
        return replace(found) if found else None

    def save(self, entry: FaqEntry) -> None:
        tables = self._writable()
        if entry.slug not in tables.faqs:
            raise IntegrityError(f"no quick question {entry.slug} to save")
        tables.faqs[entry.slug] = replace(entry)

    def delete(self, slug: str) -> None:
        self._writable().faqs.pop(slug, None)

    def all(self) -> list[FaqEntry]:
        return [replace(e) for e in display_order(self._tables.faqs.values())]


class InMemorySessions(_Repository):
    def add(self, session_id: str, *, created_at: datetime) -> None:
        tables = self._writable()
        if session_id in tables.sessions:
            raise IntegrityError("customer session exists")
        tables.sessions[session_id] = created_at

    def exists(self, session_id: str) -> bool:
        return session_id in self._tables.sessions


class InMemoryTokens(_Repository):
    def add(self, token_id: str, *, agent_id: str, expires_at: datetime) -> None:
        tables = self._writable()
        if token_id in tables.tokens:
            raise IntegrityError(f"token {token_id} exists")
        if agent_id not in tables.agents:
            raise IntegrityError(f"no agent {agent_id}")
        tables.tokens[token_id] = TokenRow(agent_id, expires_at)

    def is_live(self, token_id: str, *, agent_id: str, now: datetime) -> bool:
        row = self._tables.tokens.get(token_id)
        return row is not None and row.agent_id == agent_id and now < row.expires_at

    def revoke(self, token_id: str) -> None:
        self._writable().tokens.pop(token_id, None)

    def revoke_all(self, agent_id: str, *, keep: str | None = None) -> None:
        tokens = self._writable().tokens
        for token_id in [t for t, row in tokens.items() if row.agent_id == agent_id]:
            if token_id != keep:
                del tokens[token_id]

    def purge_expired(self, *, now: datetime) -> None:
        tokens = self._writable().tokens
        for token_id in [t for t, row in tokens.items() if row.expires_at <= now]:
            del tokens[token_id]


class InMemoryInstances(_Repository):
    def beat(self, instance_id: str, *, now: datetime) -> bool:
        instances = self._writable().instances
        known = instance_id in instances
        instances[instance_id] = now
        return known

    def is_known(self, instance_id: str) -> bool:
        return instance_id in self._tables.instances

    def count_connection(self, instance_id: str, agent_id: str) -> None:
        tables = self._writable()
        if instance_id not in tables.instances:
            raise IntegrityError(f"no instance {instance_id}")
        key = (instance_id, agent_id)
        tables.held[key] = tables.held.get(key, 0) + 1

    def uncount_connection(self, instance_id: str, agent_id: str) -> bool:
        held = self._writable().held
        key = (instance_id, agent_id)
        if held.get(key, 0) <= 0:
            return False
        held[key] -= 1
        if not held[key]:
            del held[key]
        return True

    def silent_since(self, moment: datetime) -> list[str]:
        return sorted(i for i, seen in self._tables.instances.items() if seen <= moment)

    def forget(self, instance_id: str) -> dict[str, int]:
        tables = self._writable()
        tables.instances.pop(instance_id, None)
        mine = [key for key in tables.held if key[0] == instance_id]
        return {agent_id: tables.held.pop((i, agent_id)) for i, agent_id in mine}


class FakeUnitOfWork:
    """One transaction over a private copy of the committed tables."""

    conversations: ConversationRepository
    messages: MessageRepository
    agents: AgentRepository
    faqs: FaqRepository
    sessions: CustomerSessionRepository
    tokens: AccessTokenRepository
    instances: ServerInstanceRepository

    def __init__(self, database: InMemoryDatabase, *, write: bool) -> None:
        self._database = database
        self.write = write
        self.committed = False
        self._tables: Tables | None = None
        self.conversations = InMemoryConversations(self)
        self.messages = InMemoryMessages(self)
        self.agents = InMemoryAgents(self)
        self.faqs = InMemoryFaqs(self)
        self.sessions = InMemorySessions(self)
        self.tokens = InMemoryTokens(self)
        self.instances = InMemoryInstances(self)

    @property
    def tables(self) -> Tables:
        if self._tables is None:
            raise AssertionError("the unit of work is used outside its with-block")
        return self._tables

    def __enter__(self) -> Self:
        if self._tables is not None or self.committed:
            raise AssertionError("a unit of work is entered once")
        self._database.opened(self)
        self._tables = self._database.tables.copy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tables = None  # whatever was not committed is gone
        self._database.closed(self)

    def commit(self) -> None:
        tables = self.tables
        if self.write:
            self._database.store(tables)
        self.committed = True


class InMemoryDatabase:
    """The committed state, and the UnitOfWorkFactory that opens units on it.

    A write unit serializes with every other writer: opening a second one while
    the first is open would wait forever on a real database, so it fails here.
    """

    def __init__(self) -> None:
        self.tables = Tables()
        self.commits = 0
        self.fail_next_commit = False
        self.writer: FakeUnitOfWork | None = None

    def __call__(self, *, write: bool = True) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, write=write)

    def opened(self, unit: FakeUnitOfWork) -> None:
        if unit.write:
            if self.writer is not None:
                raise AssertionError("a second write unit opened while one is open")
            self.writer = unit

    def closed(self, unit: FakeUnitOfWork) -> None:
        if self.writer is unit:
            self.writer = None

    def store(self, tables: Tables) -> None:
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise CommitFailed()
        self.tables = tables.copy()
        self.commits += 1

    def seed(self, *, faqs: list[FaqEntry]) -> None:
        """Put rows in directly, as a migration would."""
        for entry in faqs:
            self.tables.faqs[entry.slug] = replace(entry)
