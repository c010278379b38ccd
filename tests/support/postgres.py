"""Fixtures for the PostgreSQL adapter's tests: the local server, a fresh store per test.

Each test class gets its own database, ``chatcore_test_<random>``, made from the
server's ``test`` database and dropped afterwards; each test gets its own schema in
it (through ``search_path`` in the URL), so runs never collide and leave nothing
behind. No server is a failure, not a skip: CI starts one (.ci/run).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

from adapters.postgres import PostgresDatabase

ADMIN_URL = os.environ.get("CHATCORE_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test")


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_URL} ({error}). These tests need it: "
            "start it (.ci/run does), or point CHATCORE_TEST_POSTGRESQL at a server.",
            pytrace=False,
        )


def url_for(database: str, *, schema: str | None = None) -> str:
    """ADMIN_URL naming another database, optionally confined to one schema."""
    parts = urlsplit(ADMIN_URL)
    query = f"options={quote('-c search_path=' + schema)}" if schema else parts.query
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, query, ""))


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database's name; dropped, connections and all, afterwards."""
    name = f"chatcore_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresFixtures:
    @pytest.fixture(scope="class")
    @classmethod
    def postgres_database(cls) -> Iterator[str]:
        with scratch_database() as name:
            yield name

    @pytest.fixture
    def postgres_url(self, postgres_database: str) -> str:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url_for(postgres_database), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        return url_for(postgres_database, schema=schema)

    @pytest.fixture
    def database(self, postgres_url: str) -> Iterator[PostgresDatabase]:
        database = PostgresDatabase(postgres_url)
        yield database
        database.close()
