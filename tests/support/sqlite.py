"""Fixtures for the SQLite adapter's tests: a real database file in tmp_path.

A mixin rather than a conftest: the test classes that need a database say so
by inheriting from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.sqlite import SqliteDatabase


class SqliteFixtures:
    @pytest.fixture
    def database_path(self, tmp_path: Path) -> Path:
        return tmp_path / "chatcore.db"

    @pytest.fixture
    def database(self, database_path: Path) -> Iterator[SqliteDatabase]:
        database = SqliteDatabase(database_path)
        yield database
        database.close()
