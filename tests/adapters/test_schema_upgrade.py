"""Schema 2 (connections counted per server instance), applied to a store written at 1.

Connections counted before the upgrade belong to no running instance: the upgrade
puts them under one last heard from in 1970, so the first server to start lets
them go through the grace period, as servers always did at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters import postgres, sqlite
from adapters.postgres import migrations as postgres_migrations
from adapters.sqlite import migrations as sqlite_migrations
from chatcore.agents import Agent
from chatcore.presence import Link, Presence, PresenceStatus
from support.contracts.storage import committed, make_agent
from support.postgres import PostgresFixtures

LIVE = Presence(chosen=PresenceStatus.ONLINE, link=Link.LIVE, connections=2)
OLD = "before-schema-2"
IN_1971 = datetime(1971, 1, 1, tzinfo=UTC)  # the old instance was last heard from before
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


Store = sqlite.SqliteDatabase | postgres.PostgresDatabase


def written_at_version_1(
    monkeypatch: pytest.MonkeyPatch, module: object, open_store: Callable[[], Store]
) -> tuple[Agent, Agent]:
    """Two agents stored by a chatcore that knew schema 1 only: one connected twice."""
    monkeypatch.setattr(module, "MIGRATIONS", module.MIGRATIONS[:1])  # type: ignore[attr-defined]
    monkeypatch.setattr(module, "SCHEMA_VERSION", 1)
    store = open_store()
    connected, idle = make_agent("Connie", presence=LIVE), make_agent("Ida")
    with committed(store.uow) as uow:
        uow.agents.add(connected)
        uow.agents.add(idle)
    store.close()
    monkeypatch.undo()
    return connected, idle


def check_upgrade(
    monkeypatch: pytest.MonkeyPatch, module: object, open_store: Callable[[], Store]
) -> None:
    connected, _ = written_at_version_1(monkeypatch, module, open_store)
    store = open_store()
    try:
        assert store.schema_version == 2
        with store.uow(write=False) as unit:
            assert unit.instances.silent_since(IN_1971) == [OLD]
        with committed(store.uow) as unit:
            assert unit.instances.forget(OLD) == {connected.id: 2}
    finally:
        store.close()


def check_fresh(store: Store) -> None:
    try:
        with store.uow(write=False) as unit:
            assert unit.instances.silent_since(FAR_FUTURE) == []
    finally:
        store.close()


def test_sqlite_counts_from_before_belong_to_an_instance_long_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    check_upgrade(monkeypatch, sqlite_migrations, lambda: sqlite.SqliteDatabase(path))


def test_sqlite_a_fresh_file_has_no_instance(tmp_path: Path) -> None:
    check_fresh(sqlite.SqliteDatabase(tmp_path / "new.db"))


class TestPostgresUpgrade(PostgresFixtures):
    def test_counts_from_before_belong_to_an_instance_long_silent(
        self, postgres_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        check_upgrade(
            monkeypatch, postgres_migrations, lambda: postgres.PostgresDatabase(postgres_url)
        )

    def test_a_fresh_database_has_no_instance(self, postgres_url: str) -> None:
        check_fresh(postgres.PostgresDatabase(postgres_url))
