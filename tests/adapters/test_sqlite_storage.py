"""The storage contract, run against SqliteDatabase on a real file."""

from __future__ import annotations

import sqlite3

import pytest

from adapters.sqlite import SqliteDatabase
from chatcore.ports import UnitOfWorkFactory
from support.contracts.instance import InstanceContract
from support.contracts.storage import StorageContract
from support.sqlite import SqliteFixtures


class TestSqliteStorage(SqliteFixtures, StorageContract, InstanceContract):
    @pytest.fixture
    def uow_factory(self, database: SqliteDatabase) -> UnitOfWorkFactory:
        factory: UnitOfWorkFactory = database.uow
        return factory

    @pytest.fixture
    def integrity_error(self) -> type[Exception]:
        return sqlite3.IntegrityError
