"""Escalation is atomic on SQLite: the real use cases, many threads, one database file.

The threads stand in for the server's worker pool: every escalate call is a
write unit, and the write lock plus BEGIN IMMEDIATE must make the
read-choose-assign sequence of each one indivisible.
"""

from __future__ import annotations

import pytest

from adapters.sqlite import SqliteDatabase
from chatcore.agents import Agent
from chatcore.conversation import ConversationView, Status
from chatcore.events import AgentAssigned, ConversationUpdated, MessageCreated
from chatcore.usecases import Context, customer
from support.races import RaceWorld, RecordingPublisher, check_capacity_race, race
from support.sqlite import SqliteFixtures


class Escalation(SqliteFixtures, RaceWorld):
    @pytest.fixture
    def ctx(self, database: SqliteDatabase, publisher: RecordingPublisher) -> Context:
        return self.context(database, publisher)


class TestOneConversation(Escalation):
    def test_fifty_racing_escalations_assign_exactly_once(
        self,
        ctx: Context,
        database: SqliteDatabase,
        publisher: RecordingPublisher,
        agents: list[Agent],
    ) -> None:
        started = customer.start_conversation(ctx)
        chat_id, session = started.view.conversation.id, started.session_id
        publisher.events.clear()

        outcomes = race([lambda: customer.escalate(ctx, chat_id, session_id=session)] * 50)

        views = [o for o in outcomes if isinstance(o, ConversationView)]
        assert len(views) == 50, [o for o in outcomes if isinstance(o, Exception)]
        holders = {view.assigned_agent.id for view in views if view.assigned_agent}
        assert len(holders) == 1
        assert all(view.conversation.status is Status.AGENT for view in views)
        (holder,) = holders
        assert holder in {agent.id for agent in agents}
        assert len(self.joined_messages(database, chat_id)) == 1
        assert [e.agent.id for e in publisher.of(AgentAssigned)] == [holder]
        assert len(publisher.of(ConversationUpdated)) == 1
        assert len(publisher.of(MessageCreated)) == 1
        with database.uow(write=False) as uow:
            stored = uow.conversations.get(chat_id)
            assert stored is not None
            assert (stored.status, stored.assigned_agent_id) == (Status.AGENT, holder)
            loads = {c.agent_id: c.load for c in uow.agents.candidates()}
            assert loads[holder] == 1
            assert sum(loads.values()) == 1


class TestCapacity(Escalation):
    capacity = 2

    def test_concurrent_escalations_never_exceed_capacity(
        self,
        ctx: Context,
        database: SqliteDatabase,
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
