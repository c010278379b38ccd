"""What the PostgreSQL adapter adds beyond the storage contract: start-up, and agent saves."""

from __future__ import annotations

import pytest

from adapters.postgres import SCHEMA_VERSION, PostgresDatabase
from chatcore.ports import StorageUnavailable
from chatcore.presence import Presence, PresenceStatus
from support.contracts.storage import committed, make_agent
from support.postgres import PostgresFixtures


def test_an_unreachable_server_is_storage_unavailable() -> None:
    with pytest.raises(StorageUnavailable, match="Cannot connect to PostgreSQL"):
        PostgresDatabase("postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1")


class TestPostgresDatabase(PostgresFixtures):
    def test_a_second_instance_finds_the_schema_migrated(
        self, database: PostgresDatabase, postgres_url: str
    ) -> None:
        other = PostgresDatabase(postgres_url)
        try:
            assert other.schema_version == database.schema_version == SCHEMA_VERSION
            assert other.ping()
        finally:
            other.close()

    def test_saves_of_different_fields_of_one_agent_both_land(
        self, database: PostgresDatabase
    ) -> None:
        agent = make_agent()
        with committed(database.uow) as uow:
            uow.agents.add(agent)
        with database.uow() as first, database.uow() as second:
            mine, theirs = first.agents.get(agent.id), second.agents.get(agent.id)
            assert mine is not None
            assert theirs is not None
            mine.active = False
            first.agents.save(mine)
            first.commit()
            theirs.presence = Presence(chosen=PresenceStatus.ONLINE)
            second.agents.save(theirs)
            second.commit()
        with database.uow(write=False) as uow:
            stored = uow.agents.get(agent.id)
        assert stored is not None
        assert (stored.active, stored.presence.chosen) == (False, PresenceStatus.ONLINE)

    def test_a_save_over_a_change_made_meanwhile_is_refused(
        self, database: PostgresDatabase
    ) -> None:
        agent = make_agent()
        with committed(database.uow) as uow:
            uow.agents.add(agent)
        with database.uow() as first, database.uow() as second:
            mine, theirs = first.agents.get(agent.id), second.agents.get(agent.id)
            assert mine is not None
            assert theirs is not None
            mine.presence = Presence(chosen=PresenceStatus.ONLINE)
            first.agents.save(mine)
            first.commit()
            theirs.presence = Presence(chosen=PresenceStatus.AWAY)
            with pytest.raises(StorageUnavailable, match="changed by another request"):
                second.agents.save(theirs)
        with database.uow(write=False) as uow:
            stored = uow.agents.get(agent.id)
        assert stored is not None
        assert stored.presence.chosen is PresenceStatus.ONLINE
