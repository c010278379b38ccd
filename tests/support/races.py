"""Races on a real store: many threads through the real use cases, released at once.

The threads stand in for the server's worker pool. ``RaceWorld`` is what every store's
race tests share; ``PostgresRace`` adds a second instance on the same database.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest

from adapters.postgres import PostgresDatabase
from adapters.security import BcryptHasher, JwtTokenService
from adapters.system import RandomIds, SystemClock
from chatcore.agents import Agent
from chatcore.conversation import ConversationView, Status
from chatcore.errors import NoAgentAvailable
from chatcore.events import AgentAssigned, ConversationUpdated, DomainEvent, MessageCreated
from chatcore.messages import SenderType
from chatcore.ports import EventPublisher, UnitOfWorkFactory
from chatcore.presence import Presence, PresenceStatus
from chatcore.usecases import Context, Policy, customer
from chatcore.usecases.customer import StartedConversation
from entrypoints.bootstrap import Database
from support.contracts.storage import committed, make_agent
from support.postgres import PostgresFixtures

T = TypeVar("T")


class RecordingPublisher:
    """Keeps every published event, in publication order."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self._lock = threading.Lock()

    def publish(self, events: Sequence[DomainEvent]) -> None:
        with self._lock:
            self.events.extend(events)

    def of(self, kind: type[T]) -> list[T]:
        return [event for event in self.events if isinstance(event, kind)]


def race(calls: Sequence[Callable[[], T]]) -> list[T | Exception]:
    """Run every call on its own thread, all released at the same moment."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | Exception:
        start.wait()
        try:
            return call()
        except Exception as error:  # the outcome under test, not a failure of the test
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def joined_messages(uow: UnitOfWorkFactory, conversation_id: str) -> list[str]:
    """The "joined" system messages of one conversation."""
    with uow(write=False) as unit:
        messages = unit.messages.after(conversation_id, after_seq=0, limit=500)
    return [
        m.body
        for m in messages
        if m.sender.type is SenderType.SYSTEM and m.body.endswith("joined the conversation")
    ]


def check_one_assignment(
    outcomes: Sequence[object],
    *,
    chat_id: str,
    agents: Sequence[Agent],
    publisher: RecordingPublisher,
    uow: UnitOfWorkFactory,
) -> str:
    """After escalations of one chat raced: every call answered, one agent holds it,
    announced once, with one load counted. Answers the holder's id."""
    views = [o for o in outcomes if isinstance(o, ConversationView)]
    assert len(views) == len(outcomes), [o for o in outcomes if isinstance(o, Exception)]
    holders = {view.assigned_agent.id for view in views if view.assigned_agent}
    assert len(holders) == 1
    assert all(view.conversation.status is Status.AGENT for view in views)
    (holder,) = holders
    assert holder in {agent.id for agent in agents}
    assert len(joined_messages(uow, chat_id)) == 1
    assert [e.agent.id for e in publisher.of(AgentAssigned)] == [holder]
    assert len(publisher.of(ConversationUpdated)) == 1
    assert len(publisher.of(MessageCreated)) == 1
    with uow(write=False) as unit:
        loads = {c.agent_id: c.load for c in unit.agents.candidates()}
        assert loads[holder] == 1
        assert sum(loads.values()) == 1
    return holder


def check_capacity_race(
    outcomes: Sequence[object],
    *,
    agents: Sequence[Agent],
    chats: Sequence[StartedConversation],
    publisher: RecordingPublisher,
    uow: UnitOfWorkFactory,
) -> None:
    """Ten chats racing for three agents with room for two each, on any storage."""
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(f, NoAgentAvailable) for f in failures), failures
    assigned = {
        o.conversation.id: o.assigned_agent.id
        for o in outcomes
        if isinstance(o, ConversationView) and o.assigned_agent
    }
    # Three agents with room for two each: six chats get someone, four cannot.
    assert len(assigned) == 6
    assert Counter(assigned.values()) == {agent.id: 2 for agent in agents}
    assert len(publisher.of(AgentAssigned)) == 6
    with uow(write=False) as unit:
        loads = {c.agent_id: c.load for c in unit.agents.candidates()}
        assert loads == {agent.id: 2 for agent in agents}
        for chat in chats:
            stored = unit.conversations.get(chat.view.conversation.id)
            assert stored is not None
            expected = Status.AGENT if stored.id in assigned else Status.AUTOMATED
            assert stored.status is expected
    for conversation_id in assigned:
        assert len(joined_messages(uow, conversation_id)) == 1


class RaceWorld:
    """What every store's race tests share: a recording publisher, a use-case context
    over a database, and three online agents. ``database`` comes from the store's
    fixtures (SqliteFixtures, PostgresFixtures)."""

    capacity = 0

    @pytest.fixture
    def publisher(self) -> RecordingPublisher:
        return RecordingPublisher()

    def context(self, database: Database, publisher: EventPublisher) -> Context:
        return Context(
            uow=database.uow,
            publisher=publisher,
            clock=SystemClock(),
            ids=RandomIds(),
            hasher=BcryptHasher(rounds=4),  # unused here: agents are stored directly
            tokens=JwtTokenService("escalation-tests-secret-0123456789", ttl=timedelta(hours=1)),
            policy=Policy(agent_capacity=self.capacity),
        )

    @pytest.fixture
    def agents(self, database: Database) -> list[Agent]:
        online = Presence(chosen=PresenceStatus.ONLINE)
        team = [make_agent(name, presence=online) for name in ("Alice", "Bob", "Carol")]
        with committed(database.uow) as uow:
            for agent in team:
                uow.agents.add(agent)
        return team


class EscalationRaces(RaceWorld):
    """Escalation is atomic: the races every store runs (a subclass adds the store's
    ``database`` fixture: SqliteFixtures, or the memory store's)."""

    @pytest.fixture
    def ctx(self, database: Database, publisher: RecordingPublisher) -> Context:
        return self.context(database, publisher)


class OneConversationRaces(EscalationRaces):
    """Fifty escalations of one chat at once: one agent, once."""

    def test_fifty_racing_escalations_assign_exactly_once(
        self,
        ctx: Context,
        database: Database,
        publisher: RecordingPublisher,
        agents: list[Agent],
    ) -> None:
        started = customer.start_conversation(ctx)
        chat_id, session = started.view.conversation.id, started.session_id
        publisher.events.clear()

        outcomes = race([lambda: customer.escalate(ctx, chat_id, session_id=session)] * 50)

        holder = check_one_assignment(
            outcomes, chat_id=chat_id, agents=agents, publisher=publisher, uow=database.uow
        )
        with database.uow(write=False) as uow:
            stored = uow.conversations.get(chat_id)
            assert stored is not None
            assert (stored.status, stored.assigned_agent_id) == (Status.AGENT, holder)


class CapacityRaces(EscalationRaces):
    """Thirty escalations of ten chats at once: nobody over capacity."""

    capacity = 2

    def test_concurrent_escalations_never_exceed_capacity(
        self,
        ctx: Context,
        database: Database,
        publisher: RecordingPublisher,
        agents: list[Agent],
    ) -> None:
        chats = [customer.start_conversation(ctx) for _ in range(10)]
        publisher.events.clear()
        calls = [
            (lambda c=c: customer.escalate(ctx, c.view.conversation.id, session_id=c.session_id))
            for c in chats
            for _ in range(3)  # every customer taps the button three times at once
        ]

        outcomes = race(calls)

        check_capacity_race(
            outcomes, agents=agents, chats=chats, publisher=publisher, uow=database.uow
        )


class PostgresRace(PostgresFixtures, RaceWorld):
    """Two PostgresDatabase objects over one database: two server processes' pools."""

    @pytest.fixture
    def other_database(
        self, postgres_url: str, database: PostgresDatabase
    ) -> Iterator[PostgresDatabase]:
        """A second instance on the same schema (``database`` migrated it first)."""
        other = PostgresDatabase(postgres_url)
        yield other
        other.close()

    @pytest.fixture
    def instances(
        self,
        database: PostgresDatabase,
        other_database: PostgresDatabase,
        publisher: RecordingPublisher,
    ) -> list[Context]:
        return [self.context(database, publisher), self.context(other_database, publisher)]
