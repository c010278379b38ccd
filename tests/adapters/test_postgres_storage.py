"""The storage contract, run against PostgresDatabase on the local server."""

from __future__ import annotations

import psycopg
import pytest

from adapters.postgres import PostgresDatabase
from chatcore.ports import UnitOfWorkFactory
from support.contracts.instance import InstanceContract
from support.contracts.storage import StorageContract
from support.postgres import PostgresFixtures


class TestPostgresStorage(PostgresFixtures, StorageContract, InstanceContract):
    @pytest.fixture
    def uow_factory(self, database: PostgresDatabase) -> UnitOfWorkFactory:
        factory: UnitOfWorkFactory = database.uow
        return factory

    @pytest.fixture
    def integrity_error(self) -> type[Exception]:
        return psycopg.IntegrityError
