"""SqliteDatabase itself: pragmas, migrations, the default FAQs, indexes, and locking."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlite_utils

from adapters.sqlite import SCHEMA_VERSION, SchemaTooNew, SqliteDatabase, migrations
from adapters.sqlite.connections import open_handle
from chatcore.conversation import Status
from chatcore.default_faqs import DEFAULT_FAQS
from chatcore.messages import Sender, SenderType
from chatcore.ports import ConversationListing, ListingCursor
from support.contracts.storage import T0, at, committed, make_agent, make_conversation, new_id
from support.sqlite import SqliteFixtures

T = TypeVar("T")
HANG_GUARD = 30  # seconds; only ever reached when something is broken


def in_thread(work: Callable[[], T]) -> T:
    """Run ``work`` on another thread and return what it returned (or raise what it raised)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", work()))
        except BaseException as error:
            outcome.append(("error", error))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "the other thread is stuck"
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value  # type: ignore[no-any-return]


def pragma(db: sqlite_utils.Database, name: str) -> Any:
    return db.execute(f"PRAGMA {name}").fetchone()[0]


def schema_of(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    return rows


class TestConnections(SqliteFixtures):
    @pytest.mark.parametrize("write", [True, False])
    def test_pragmas_are_really_set(self, database: SqliteDatabase, write: bool) -> None:
        with database.uow(write=write) as uow:
            assert pragma(uow.db, "journal_mode") == "wal"
            assert pragma(uow.db, "foreign_keys") == 1
            assert pragma(uow.db, "busy_timeout") == 5000
            assert pragma(uow.db, "synchronous") == 1  # NORMAL
            assert pragma(uow.db, "query_only") == (0 if write else 1)

    def test_a_read_unit_cannot_write(self, database: SqliteDatabase) -> None:
        with database.uow(write=False) as uow, pytest.raises(sqlite3.OperationalError):
            uow.sessions.add("sneaky", created_at=T0)

    def test_each_thread_reads_on_its_own_connection(self, database: SqliteDatabase) -> None:
        with database.uow(write=False) as here:
            mine = here.db.conn

        def theirs() -> sqlite3.Connection:
            with database.uow(write=False) as there:
                return there.db.conn

        assert in_thread(theirs) is not mine
        with database.uow(write=False) as again:
            assert again.db.conn is mine

    def test_units_do_not_nest_on_one_thread(self, database: SqliteDatabase) -> None:
        with database.uow() as outer:
            with pytest.raises(RuntimeError, match="do not nest"), database.uow():
                pass
            outer.sessions.add("still-fine", created_at=T0)
            outer.commit()
        with (
            database.uow(write=False),
            pytest.raises(RuntimeError, match="do not nest"),
            database.uow(write=False),
        ):
            pass
        with database.uow(write=False) as uow:
            assert uow.sessions.exists("still-fine")

    def test_commit_twice_is_a_bug(self, database: SqliteDatabase) -> None:
        with database.uow() as uow:
            uow.commit()
            with pytest.raises(RuntimeError, match="nothing to commit"):
                uow.commit()

    def test_timestamps_are_fixed_width_utc_text(self, database: SqliteDatabase) -> None:
        with committed(database.uow) as uow:
            uow.sessions.add("s", created_at=T0)
        with database.uow(write=False) as uow:
            stored = uow.db.execute("SELECT created_at FROM customer_sessions").fetchone()[0]
        assert stored == "2026-11-25T21:49:26.123Z"
        with database.uow() as uow, pytest.raises(ValueError, match="naive"):
            uow.sessions.add("naive", created_at=T0.replace(tzinfo=None))

    def test_ping_and_close(self, database_path: Path) -> None:
        database = SqliteDatabase(database_path)
        assert database.ping()
        database.close()
        database.close()  # idempotent
        assert not database.ping()
        with pytest.raises(sqlite3.ProgrammingError):
            database.uow()

    def test_memory_databases_are_refused(self) -> None:
        with pytest.raises(ValueError, match="WAL"):
            SqliteDatabase(":memory:")


class TestMigrations(SqliteFixtures):
    def test_a_fresh_file_is_at_the_latest_version(self, database: SqliteDatabase) -> None:
        assert database.schema_version == SCHEMA_VERSION == len(migrations.MIGRATIONS)
        with database.uow(write=False) as uow:
            assert pragma(uow.db, "user_version") == SCHEMA_VERSION

    def test_a_fresh_file_has_the_default_faqs(self, database: SqliteDatabase) -> None:
        with database.uow(write=False) as uow:
            assert uow.faqs.all() == DEFAULT_FAQS
        assert len(DEFAULT_FAQS) >= 5
        assert len({entry.slug for entry in DEFAULT_FAQS}) == len(DEFAULT_FAQS)
        assert "track-order" in {entry.slug for entry in DEFAULT_FAQS}

    def test_migrating_a_migrated_file_is_a_no_op(
        self,
        database: SqliteDatabase,
        database_path: Path,
    ) -> None:
        before = schema_of(database_path)
        handle = open_handle(str(database_path))
        try:
            assert migrations.migrate(handle.db) == SCHEMA_VERSION
        finally:
            handle.close()
        assert schema_of(database_path) == before
        with database.uow(write=False) as uow:
            assert uow.faqs.all() == DEFAULT_FAQS

    def test_reopening_keeps_the_data(self, database_path: Path) -> None:
        first = SqliteDatabase(database_path)
        with committed(first.uow) as uow:
            uow.sessions.add("kept", created_at=T0)
        first.close()
        again = SqliteDatabase(database_path)
        with again.uow(write=False) as uow:
            assert uow.sessions.exists("kept")
        assert again.schema_version == SCHEMA_VERSION
        again.close()

    def test_deleted_defaults_are_never_seeded_again(self, database_path: Path) -> None:
        first = SqliteDatabase(database_path)
        with committed(first.uow) as uow:
            for entry in uow.faqs.all():
                uow.faqs.delete(entry.slug)
        first.close()
        again = SqliteDatabase(database_path)
        with again.uow(write=False) as uow:
            assert uow.faqs.all() == []
        again.close()

    def test_a_new_migration_applies_forward_to_an_existing_file(
        self,
        database_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        first = SqliteDatabase(database_path)
        with committed(first.uow) as uow:
            uow.sessions.add("old", created_at=T0)
        first.close()

        def add_a_column(db: sqlite_utils.Database) -> None:
            db.execute("ALTER TABLE customer_sessions ADD COLUMN note TEXT")

        monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, add_a_column))
        monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
        again = SqliteDatabase(database_path)
        assert again.schema_version == SCHEMA_VERSION + 1
        with again.uow(write=False) as uow:
            assert "note" in uow.db.table("customer_sessions").columns_dict
            assert uow.sessions.exists("old")
        again.close()

    def test_a_failing_migration_changes_nothing(
        self,
        database_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        SqliteDatabase(database_path).close()
        before = schema_of(database_path)

        def half_done(db: sqlite_utils.Database) -> None:
            db.execute("CREATE TABLE half (id TEXT)")
            raise RuntimeError("migration failed midway")

        monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, half_done))
        monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
        with pytest.raises(RuntimeError, match="midway"):
            SqliteDatabase(database_path)
        assert schema_of(database_path) == before

    def test_a_file_from_a_newer_chatcore_is_refused(self, database_path: Path) -> None:
        SqliteDatabase(database_path).close()
        with sqlite3.connect(database_path) as conn:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.close()
        with pytest.raises(SchemaTooNew):
            SqliteDatabase(database_path)


FULL_SCAN = re.compile(r"^SCAN (conversations|messages)\b")


class TestQueryPlans(SqliteFixtures):
    """Every query the repositories run on conversations and messages seeks an index."""

    @pytest.fixture
    def traced(self, database: SqliteDatabase) -> list[tuple[str, Any]]:
        """The SELECTs the repositories run on conversations and messages, with params."""
        session = new_id()
        alice = make_agent("Alice")
        with committed(database.uow) as uow:
            uow.sessions.add(session, created_at=T0)
            uow.agents.add(alice)
            chat = make_conversation(session, status=Status.AGENT, agent=alice)
            uow.conversations.add(chat)
            uow.messages.add(
                chat.append(
                    Sender(SenderType.CUSTOMER, None, "Guest"), "Hi", message_id=new_id(), now=T0
                )
            )
            uow.conversations.save(chat)
        statements: list[tuple[str, Any]] = []
        with (
            database.uow(write=False) as uow,
            uow.db.tracer(lambda sql, params: statements.append((sql, params))),
        ):
            self.run_every_read(uow, viewer=alice.id, conversation_id=chat.id)
        return [
            (sql, params)
            for sql, params in statements
            if re.match(r"\s*(select|with)\b", sql, re.IGNORECASE)
            and re.search(r"\b(conversations|messages)\b", sql)
        ]

    @staticmethod
    def run_every_read(uow: Any, *, viewer: str, conversation_id: str) -> None:
        cursor = ListingCursor(at(5), new_id())
        for who in (viewer, None):
            for statuses in [frozenset({s}) for s in Status] + [frozenset(Status)]:
                for after in (None, cursor):
                    uow.conversations.listing(ConversationListing(statuses, who, 20, after))
        uow.conversations.get(conversation_id)
        uow.conversations.held_by(viewer, status=Status.AGENT)
        uow.agents.candidates()
        uow.messages.after(conversation_id, after_seq=0, limit=100)
        uow.messages.by_client_id(
            conversation_id, sender_type=SenderType.CUSTOMER, sender_id=None, client_message_id="k"
        )
        uow.messages.by_client_id(
            conversation_id, sender_type=SenderType.AGENT, sender_id=viewer, client_message_id="k"
        )
        uow.messages.replies_to(new_id())

    def test_no_full_scan_of_conversations_or_messages(
        self,
        database: SqliteDatabase,
        traced: list[tuple[str, Any]],
    ) -> None:
        assert len(traced) >= 23  # every listing variant, and each message query
        with database.uow(write=False) as uow:
            for sql, params in traced:
                plan = [row[3] for row in uow.db.execute("EXPLAIN QUERY PLAN " + sql, params or [])]
                scans = [step for step in plan if FULL_SCAN.match(step)]
                assert not scans, f"{sql}\n{plan}"

    def test_the_named_indexes_serve_the_hot_queries(
        self,
        database: SqliteDatabase,
        traced: list[tuple[str, Any]],
    ) -> None:
        with database.uow(write=False) as uow:
            plans = " ".join(
                row[3]
                for sql, params in traced
                for row in uow.db.execute("EXPLAIN QUERY PLAN " + sql, params or [])
            )
        for index in (
            "conversations_by_status",
            "conversations_by_holder",
            "conversations_by_closer",
            "messages_by_seq",
            "messages_by_client_id",
            "messages_by_reply_to",
        ):
            assert index in plans


class TestLocking(SqliteFixtures):
    def test_read_units_proceed_while_a_write_unit_is_open(
        self,
        database: SqliteDatabase,
    ) -> None:
        with committed(database.uow) as uow:
            uow.sessions.add("before", created_at=T0)

        def read() -> tuple[bool, bool]:
            with database.uow(write=False) as uow:
                return uow.sessions.exists("before"), uow.sessions.exists("pending")

        with database.uow() as writing:
            writing.sessions.add("pending", created_at=T0)
            assert in_thread(read) == (True, False)  # would hang if reads took the write lock
            writing.commit()
        assert in_thread(read) == (True, True)

    def test_a_read_unit_is_one_snapshot(self, database: SqliteDatabase) -> None:
        with database.uow(write=False) as reading:
            assert not reading.sessions.exists("late")
            with committed(database.uow) as uow:
                uow.sessions.add("late", created_at=T0)
            assert not reading.sessions.exists("late")
        with database.uow(write=False) as uow:
            assert uow.sessions.exists("late")

    def test_a_writer_waits_for_another_process_while_readers_proceed(
        self,
        database: SqliteDatabase,
        database_path: Path,
    ) -> None:
        other = sqlite3.connect(database_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process (the CLI, say) holds the write lock
        other.execute("INSERT INTO customer_sessions VALUES ('theirs', ?)", [T0.isoformat()])
        inside = threading.Event()
        outcome: list[object] = []

        def write() -> None:
            try:
                with database.uow() as uow:
                    inside.set()
                    uow.sessions.add("mine", created_at=T0)
                    uow.commit()
                outcome.append("committed")
            except Exception as error:
                outcome.append(error)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            # Without a busy timeout the writer would fail at once with "database is locked".
            assert not inside.wait(0.5)
            assert outcome == []
            with database.uow(write=False) as uow:
                assert not uow.sessions.exists("theirs")
                assert not uow.sessions.exists("mine")
        finally:
            other.execute("COMMIT")
            other.close()
            writer.join(HANG_GUARD)
        assert outcome == ["committed"]
        with database.uow(write=False) as uow:
            assert uow.sessions.exists("theirs")
            assert uow.sessions.exists("mine")
