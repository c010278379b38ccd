"""Presence across instances on PostgreSQL: the real use cases, two pools, many threads.

Each PostgresDatabase stands in for one server process (test_postgres_escalation.py
explains the set-up). What is raced here: one agent's sockets connecting and
dropping through two instances at once, and an instance being forgotten while
another counts a connection on it.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial

import pytest

from adapters.postgres import PostgresDatabase
from chatcore.agents import Agent
from chatcore.presence import Link, Presence, PresenceStatus
from chatcore.usecases import Context, presence
from support.contracts.storage import committed, make_agent
from support.races import PostgresRace, race

EAST, WEST = "east", "west"


def stored(database: PostgresDatabase, agent_id: str) -> Agent:
    with database.uow(write=False) as uow:
        agent = uow.agents.get(agent_id)
    assert agent is not None
    return agent


class TestPresenceAcrossInstances(PostgresRace):
    @pytest.fixture
    def alice(self, database: PostgresDatabase) -> Agent:
        agent = make_agent("Alice", presence=Presence(chosen=PresenceStatus.ONLINE))
        with committed(database.uow) as uow:
            uow.agents.add(agent)
        return agent

    @pytest.fixture
    def east_west(self, instances: list[Context]) -> list[Context]:
        for ctx, name in zip(instances, (EAST, WEST), strict=True):
            assert not presence.instance_alive(ctx, name)
        return instances

    def test_one_agents_sockets_racing_through_two_instances_are_all_counted(
        self, database: PostgresDatabase, east_west: list[Context], alice: Agent
    ) -> None:
        east, west = east_west
        connects = [
            partial(presence.agent_connected, ctx, alice.id, instance_id=name)
            for ctx, name in [(east, EAST), (west, WEST)] * 10
        ]
        outcomes = race(connects)
        # Queued behind one another on the locks: none refused, not even as retryable.
        assert [o for o in outcomes if isinstance(o, Exception)] == []
        assert stored(database, alice.id).presence.connections == 20
        drops = [
            partial(presence.agent_disconnected, ctx, alice.id, instance_id=name)
            for ctx, name in [(east, EAST), (west, WEST)] * 10
        ]
        assert [o for o in race(drops) if isinstance(o, Exception)] == []
        after = stored(database, alice.id).presence
        assert (after.connections, after.link) == (0, Link.GRACE)

    def test_an_agent_on_both_stays_live_when_one_instance_is_forgotten(
        self, database: PostgresDatabase, east_west: list[Context], alice: Agent
    ) -> None:
        east, west = east_west
        presence.agent_connected(east, alice.id, instance_id=EAST)
        presence.agent_connected(west, alice.id, instance_id=WEST)
        presence.agent_connected(west, alice.id, instance_id=WEST)
        # Both survivors sweep at once; WEST is taken for dead by exactly one of them.
        sweeps = [
            partial(presence.instance_stopped, east, WEST),
            partial(presence.instance_stopped, west, WEST),
        ]
        let_go = race(sweeps)
        assert sorted(len(agents) for agents in let_go if isinstance(agents, list)) == [0, 1]
        after = stored(database, alice.id).presence
        assert (after.connections, after.link) == (1, Link.LIVE)

    def test_a_connection_counted_while_its_instance_is_forgotten_is_let_go_too(
        self, database: PostgresDatabase, east_west: list[Context], alice: Agent
    ) -> None:
        west = east_west[1]
        # EAST's unit has counted a connection and not yet committed when WEST forgets EAST.
        counted, release = threading.Event(), threading.Event()
        with database.uow() as uow:
            assert uow.instances.is_known(EAST)
            uow.instances.count_connection(EAST, alice.id)
            agent = uow.agents.get(alice.id)
            assert agent is not None
            agent.presence = Presence(chosen=PresenceStatus.ONLINE, link=Link.LIVE, connections=1)
            uow.agents.save(agent)

            def forget_east() -> None:
                counted.set()
                presence.instance_stopped(west, EAST)
                release.set()

            forgetting = threading.Thread(target=forget_east)
            forgetting.start()
            counted.wait()
            assert not release.wait(0.3)  # the forgetting waits for this unit
            uow.commit()
        forgetting.join(10)
        assert release.is_set()
        after = stored(database, alice.id).presence
        assert (after.connections, after.link) == (0, Link.GRACE)

    def test_an_instance_forgotten_meanwhile_may_count_nothing(
        self, database: PostgresDatabase, east_west: list[Context], alice: Agent
    ) -> None:
        east, west = east_west
        with database.uow() as uow:
            assert uow.instances.forget(EAST) == {}
            refused: list[BaseException] = []

            def connect() -> None:
                try:
                    presence.agent_connected(east, alice.id, instance_id=EAST)
                except presence.InstanceForgotten as error:
                    refused.append(error)

            connecting = threading.Thread(target=connect)
            connecting.start()
            connecting.join(0.3)
            assert connecting.is_alive()  # waits for the forgetting to commit
            uow.commit()
        connecting.join(10)
        assert len(refused) == 1
        assert stored(database, alice.id).presence.connections == 0
        # Its next beat tells it so; from then on it counts again.
        assert not presence.instance_alive(east, EAST)
        presence.agent_connected(east, alice.id, instance_id=EAST)
        assert stored(database, alice.id).presence.connections == 1
        assert presence.forget_silent_instances(west, silent_for=timedelta(hours=1)) == []
