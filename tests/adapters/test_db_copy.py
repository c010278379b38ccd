"""``chatcore db copy``: a SQLite file made by the real use cases, copied into PostgreSQL.

Every entity is read back through both adapters' repositories and compared field by
field. No PostgreSQL server is a failure, not a skip (support/postgres.py).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.migrate_store import CopyRefused, SourceMissing, copy_sqlite_to_postgres
from adapters.postgres import PostgresDatabase
from adapters.sqlite import SqliteDatabase
from chatcore.agents import Agent, Role
from chatcore.bot import FaqEntry
from chatcore.conversation import Conversation, Status
from chatcore.default_faqs import DEFAULT_FAQS
from chatcore.errors import Unauthorized
from chatcore.messages import Message, SenderType
from chatcore.ports import UnitOfWork
from chatcore.presence import Link, PresenceStatus
from chatcore.usecases import Context, accounts, admin, customer, inbox, presence
from entrypoints.bootstrap import Core, build_context
from entrypoints.settings import Settings
from support.postgres import PostgresFixtures
from support.rest import PASSWORD

CHATCORE = str(Path(sys.executable).with_name("chatcore"))
SECRET = "s" * 40
# Tabs, newlines, backslashes and non-ASCII survive COPY's text format.
AWKWARD = "Wrapped\tin paper,\nribbon \\ bow: ünïcode ✓ \\N"


@dataclass(frozen=True)
class Source:
    path: Path
    agents: dict[str, str]  # name → email
    conversations: dict[Status, str]  # one conversation id per status
    sessions: tuple[str, ...]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """One SQLite file with a bit of everything, made through the use cases."""
    path = tmp_path_factory.mktemp("source") / "chatcore.db"
    core = build_context(Settings(database=str(path), bcrypt_rounds=4))
    try:
        return _fill(core.ctx, path)
    finally:
        core.close()


def _fill(ctx: Context, path: Path) -> Source:
    emails = {name: f"{name}@shop.example" for name in ("ada", "bob", "cy")}
    for name, email in emails.items():  # the first agent ever is the admin
        accounts.create_agent_as_operator(
            ctx, email=email, password=PASSWORD, display_name=name.title(), role=Role.AGENT
        )
    ada, bob, cy = (_actor(ctx, emails[name]) for name in ("ada", "bob", "cy"))
    accounts.set_presence(ctx, bob, PresenceStatus.ONLINE)
    admin.create_faq(ctx, ada, slug="gift-wrap", question="Do you gift-wrap?", answer=AWKWARD)
    admin.update_faq(ctx, ada, "track-order", answer="Edited on the old server.", position=9)
    admin.delete_faq(ctx, ada, "payment-methods")

    # AUTOMATED: free text (with a client id) and a quick reply, both answered by the bot.
    open_chat = customer.start_conversation(ctx, display_name="Cleo", email="cleo@example.com")
    session = open_chat.session_id
    automated = open_chat.view.conversation.id
    for n in range(4):
        body = f"where is my order {n}?"
        customer.post_customer_message(
            ctx, automated, session_id=session, body=body, client_message_id=f"c-{n}"
        )
    customer.quick_reply(ctx, automated, "gift-wrap", session_id=session)

    # AGENT: the same customer session, escalated to Bob (the one agent online).
    held = customer.start_conversation(ctx, session_id=session).view.conversation.id
    customer.post_customer_message(ctx, held, session_id=session, body="A person, please")
    customer.escalate(ctx, held, session_id=session)
    inbox.post_agent_message(ctx, bob, held, body="Hi, Bob here.", client_message_id="a-1")

    # CLOSED: another customer, escalated, then closed by Bob.
    other = customer.start_conversation(ctx)
    closed = other.view.conversation.id
    customer.escalate(ctx, closed, session_id=other.session_id)
    inbox.close_conversation(ctx, bob, closed)

    admin.deactivate_agent(ctx, ada, cy.agent_id)
    # Bob's console is still connected to the old server as the copy runs.
    presence.instance_alive(ctx, "old-server")
    presence.agent_connected(ctx, bob.agent_id, instance_id="old-server")
    return Source(
        path=path,
        agents=emails,
        conversations={Status.AUTOMATED: automated, Status.AGENT: held, Status.CLOSED: closed},
        sessions=(session, other.session_id),
    )


def _agent(core: Core, email: str) -> Agent:
    with core.ctx.uow(write=False) as uow:
        agent = uow.agents.by_email(email)
    assert agent is not None
    return agent


def _actor(ctx: Context, email: str) -> accounts.Actor:
    token = accounts.login(ctx, email=email, password=PASSWORD).access_token
    return accounts.authenticate(ctx, token)


@dataclass(frozen=True)
class Snapshot:
    """Everything a store holds, read through its repositories (raw SQL only for ids)."""

    agents: list[Agent]
    conversations: list[Conversation | None]
    messages: list[list[Message]]
    faqs: list[FaqEntry]
    sessions: list[bool]
    counts: dict[str, int]


def snapshot(uow: UnitOfWork, count: Callable[[str], int], source: Source) -> Snapshot:
    ids = sorted(source.conversations.values())
    return Snapshot(
        agents=sorted(uow.agents.all(), key=lambda agent: agent.id),
        conversations=[uow.conversations.get(cid) for cid in ids],
        messages=[uow.messages.after(cid, after_seq=0, limit=10_000) for cid in ids],
        faqs=uow.faqs.all(),
        sessions=[uow.sessions.exists(sid) for sid in source.sessions],
        counts={
            table: count(table)
            for table in ("agents", "conversations", "messages", "customer_sessions", "faqs")
        },
    )


def sqlite_snapshot(source: Source) -> Snapshot:
    database = SqliteDatabase(source.path)
    try:
        with database.uow(write=False) as uow:
            db = uow.db

            def count(table: str) -> int:
                return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

            return snapshot(uow, count, source)
    finally:
        database.close()


def postgres_snapshot(url: str, source: Source) -> Snapshot:
    database = PostgresDatabase(url)
    try:
        with database.uow(write=False) as uow:
            txn = uow.txn

            def count(table: str) -> int:
                row = txn.one(f"SELECT count(*) AS n FROM {table}")
                return int(row["n"]) if row else -1

            return snapshot(uow, count, source)
    finally:
        database.close()


def access_tokens(url: str) -> int:
    database = PostgresDatabase(url)
    try:
        with database.uow(write=False) as uow:
            row = uow.txn.one("SELECT count(*) AS n FROM access_tokens")
            return int(row["n"]) if row else -1
    finally:
        database.close()


@pytest.fixture
def postgres_core(postgres_url: str) -> Iterator[Core]:
    core = build_context(Settings(database=postgres_url, secret_key=SECRET, bcrypt_rounds=4))
    yield core
    core.close()


class TestDbCopy(PostgresFixtures):
    def test_every_entity_arrives_field_by_field(self, source: Source, postgres_url: str) -> None:
        before = sqlite_snapshot(source)
        # Tiny batches: every table, messages included, is read and written in several.
        report = copy_sqlite_to_postgres(source.path, target_url=postgres_url, batch_rows=3)

        after = postgres_snapshot(postgres_url, source)
        assert after.agents == before.agents
        assert after.conversations == before.conversations
        assert after.messages == before.messages
        assert after.faqs == before.faqs
        assert after.sessions == before.sessions == [True, True]
        assert after.counts == before.counts
        assert (report.agents, report.conversations, report.sessions) == (3, 3, 2)
        assert report.messages == before.counts["messages"]
        assert report.faqs == len(before.faqs) == len(DEFAULT_FAQS)  # one added, one deleted
        assert access_tokens(postgres_url) == 0  # agents sign in again

    def test_connections_the_source_counted_are_let_go_by_the_first_instance(
        self, source: Source, postgres_url: str
    ) -> None:
        copy_sqlite_to_postgres(source.path, target_url=postgres_url)
        core = build_context(Settings(database=postgres_url, secret_key=SECRET, bcrypt_rounds=4))
        try:
            bob = _agent(core, source.agents["bob"])
            assert (bob.presence.link, bob.presence.connections) == (Link.LIVE, 1)
            # A new instance finds the copied count's owner long silent and lets it go.
            [let_go] = presence.forget_silent_instances(core.ctx, silent_for=timedelta(minutes=1))
            assert let_go.id == bob.id
            bob = _agent(core, source.agents["bob"])
            assert (bob.presence.link, bob.presence.connections) == (Link.GRACE, 0)
        finally:
            core.close()

    def test_the_source_holds_what_the_scenario_made(self, source: Source) -> None:
        # Guards the test above: the comparison is only worth what the source contains.
        snap = sqlite_snapshot(source)
        roles = {(agent.email, agent.role, agent.active) for agent in snap.agents}
        assert roles == {
            ("ada@shop.example", Role.ADMIN, True),
            ("bob@shop.example", Role.AGENT, True),
            ("cy@shop.example", Role.AGENT, False),
        }
        assert {c.status for c in snap.conversations if c} == set(Status)
        for page, conversation in zip(snap.messages, snap.conversations, strict=True):
            assert conversation is not None
            assert [m.seq for m in page] == list(range(1, conversation.last_seq + 1))
        messages = [m for page in snap.messages for m in page]
        bot_answers = [m for m in messages if m.sender.type is SenderType.BOT and m.reply_to]
        assert any(m.faq_slug == "gift-wrap" for m in bot_answers)
        assert {m.client_message_id for m in messages} >= {"c-0", "c-3", "a-1"}
        assert FaqEntry("gift-wrap", "Do you gift-wrap?", AWKWARD, 6) in snap.faqs

    def test_agents_log_in_with_their_old_passwords(
        self, source: Source, postgres_url: str, postgres_core: Core
    ) -> None:
        copy_sqlite_to_postgres(source.path, target_url=postgres_url)
        ctx = postgres_core.ctx

        session = accounts.login(ctx, email="ada@shop.example", password=PASSWORD)
        assert session.agent.role is Role.ADMIN
        with pytest.raises(Unauthorized):  # deactivated stays deactivated
            accounts.login(ctx, email="cy@shop.example", password=PASSWORD)
        # seq goes on from the copied last_seq: the store is live, not a museum.
        chat = source.conversations[Status.AUTOMATED]
        sid = source.sessions[0]
        last = customer.get_conversation(ctx, chat, session_id=sid).conversation.last_seq
        posted = customer.post_customer_message(ctx, chat, session_id=sid, body="still there?")
        assert posted.message.seq == last + 1

    def test_a_second_copy_is_refused_and_changes_nothing(
        self, source: Source, postgres_url: str
    ) -> None:
        copy_sqlite_to_postgres(source.path, target_url=postgres_url)
        before = postgres_snapshot(postgres_url, source)

        refusal = r"not empty \(3 agents, 3 conversations, \d+ messages, 2 customer sessions"
        with pytest.raises(CopyRefused, match=refusal):
            copy_sqlite_to_postgres(source.path, target_url=postgres_url)

        assert postgres_snapshot(postgres_url, source) == before

    def test_a_target_with_its_own_quick_questions_is_refused(
        self, source: Source, postgres_url: str
    ) -> None:
        target = PostgresDatabase(postgres_url)
        try:
            with target.uow() as uow:
                uow.faqs.add(FaqEntry("opening-hours", "When are you open?", "Always.", 0))
                uow.commit()
        finally:
            target.close()

        with pytest.raises(CopyRefused, match="quick questions other than the default ones"):
            copy_sqlite_to_postgres(source.path, target_url=postgres_url)
        assert postgres_snapshot(postgres_url, source).counts["faqs"] == len(DEFAULT_FAQS) + 1

    def test_the_source_is_never_written(self, source: Source, postgres_url: str) -> None:
        digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
        copy_sqlite_to_postgres(source.path, target_url=postgres_url)
        assert hashlib.sha256(source.path.read_bytes()).hexdigest() == digest

    def test_a_missing_source_is_refused_and_not_created(
        self, tmp_path: Path, postgres_url: str
    ) -> None:
        missing = tmp_path / "typo.db"
        with pytest.raises(SourceMissing, match=r"typo\.db does not exist"):
            copy_sqlite_to_postgres(missing, target_url=postgres_url)
        assert not missing.exists()

    def test_a_file_that_is_not_a_chatcore_database_is_refused(
        self, tmp_path: Path, postgres_url: str
    ) -> None:
        stranger = tmp_path / "other.db"
        stranger.write_bytes(b"")  # an empty file is a valid, empty SQLite database
        with pytest.raises(CopyRefused, match="not a chatcore database"):
            copy_sqlite_to_postgres(stranger, target_url=postgres_url)

    def test_the_command(self, source: Source, postgres_url: str, tmp_path: Path) -> None:
        def chatcore(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [CHATCORE, "db", "copy", *args],
                capture_output=True,
                text=True,
                env={**os.environ},
                timeout=60,
                check=False,
            )

        messages = sqlite_snapshot(source).counts["messages"]
        done = chatcore("--from", str(source.path), "--to", postgres_url)
        assert done.returncode == 0, done.stderr
        assert (
            f"copied 3 agents, 3 conversations, {messages} messages, "
            f"{len(DEFAULT_FAQS)} quick questions" in done.stdout
        )
        assert "Access tokens were not copied" in done.stdout

        again = chatcore("--from", str(source.path), "--to", postgres_url)
        assert again.returncode == 1
        assert "The target database is not empty" in again.stderr
        assert "Nothing was copied." in again.stderr

        missing = chatcore("--from", str(tmp_path / "typo.db"), "--to", postgres_url)
        assert missing.returncode == 2
        assert "no such SQLite file" in missing.stderr
        assert not (tmp_path / "typo.db").exists()

        not_postgres = chatcore("--from", str(source.path), "--to", str(tmp_path / "x.db"))
        assert not_postgres.returncode == 2
        assert "not a postgresql:// URL" in not_postgres.stderr
