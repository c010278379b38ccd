"""The storage contract for server instances and the agent connections each holds.

Part of the storage contract (see support/contracts/storage.py for the fixtures an
adapter's test module gives); kept apart because that file is long enough.
"""

from __future__ import annotations

import pytest

from chatcore.agents import Agent
from chatcore.ports import UnitOfWorkFactory
from support.contracts.storage import Fixtures, at, committed, make_agent, reading


class InstanceContract(Fixtures):
    @pytest.fixture
    def agents(self, uow_factory: UnitOfWorkFactory) -> tuple[Agent, Agent]:
        alice, bob = make_agent("Alice"), make_agent("Bob")
        self.add_agents(uow_factory, alice, bob)
        return alice, bob

    def beat(self, uow_factory: UnitOfWorkFactory, instance_id: str, seconds: int) -> bool:
        with committed(uow_factory) as uow:
            return uow.instances.beat(instance_id, now=at(seconds))

    def test_a_beat_says_whether_the_instance_was_known(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        assert self.beat(uow_factory, "east", 0) is False
        assert self.beat(uow_factory, "east", 5) is True
        with reading(uow_factory) as uow:
            assert uow.instances.is_known("east")
            assert not uow.instances.is_known("west")

    def test_silent_since_lists_instances_last_heard_at_or_before(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        self.beat(uow_factory, "east", 10)
        self.beat(uow_factory, "west", 20)
        self.beat(uow_factory, "north", 30)
        with reading(uow_factory) as uow:
            assert uow.instances.silent_since(at(9)) == []
            assert uow.instances.silent_since(at(20)) == ["east", "west"]
            assert uow.instances.silent_since(at(99)) == ["east", "north", "west"]

    def test_counts_are_per_instance_and_agent(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        alice, bob = agents
        self.beat(uow_factory, "east", 0)
        self.beat(uow_factory, "west", 0)
        with committed(uow_factory) as uow:
            for instance, agent in [("east", alice), ("east", alice), ("west", alice)]:
                uow.instances.count_connection(instance, agent.id)
            uow.instances.count_connection("west", bob.id)
        with committed(uow_factory) as uow:
            assert uow.instances.uncount_connection("west", bob.id)
            assert not uow.instances.uncount_connection("west", bob.id)  # none left there
            assert not uow.instances.uncount_connection("north", alice.id)  # never counted
        with committed(uow_factory) as uow:
            assert uow.instances.forget("east") == {alice.id: 2}
        with committed(uow_factory) as uow:
            assert uow.instances.forget("east") == {}  # forgotten once only
            assert uow.instances.forget("west") == {alice.id: 1}
        with reading(uow_factory) as uow:
            assert not uow.instances.is_known("east")
            assert uow.instances.silent_since(at(99)) == []

    def test_a_count_dropped_to_nothing_counts_again_from_one(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        alice = agents[0]
        self.beat(uow_factory, "east", 0)
        with committed(uow_factory) as uow:
            uow.instances.count_connection("east", alice.id)
        with committed(uow_factory) as uow:
            assert uow.instances.uncount_connection("east", alice.id)
            uow.instances.count_connection("east", alice.id)
        with committed(uow_factory) as uow:
            assert uow.instances.forget("east") == {alice.id: 1}

    def test_uncommitted_counts_are_rolled_back(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        self.beat(uow_factory, "east", 0)
        with uow_factory() as uow:
            uow.instances.count_connection("east", agents[0].id)
        with committed(uow_factory) as uow:
            assert uow.instances.forget("east") == {}
