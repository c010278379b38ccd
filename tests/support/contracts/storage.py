"""The storage contract: what any adapter behind chatcore's storage ports must do.

Reusable for every storage adapter. Subclass ``StorageContract`` in a
``test_*.py`` module and provide two fixtures:

- ``uow_factory``: a ``UnitOfWorkFactory`` over a fresh, migrated, empty-but-seeded store;
- ``integrity_error``: the exception type the driver raises when a constraint is broken.

Every test talks to the store only through the ports, so the same tests run
unchanged against SQLite today and PostgreSQL later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from chatcore.agents import Agent, AgentSummary, Role
from chatcore.bot import FaqEntry
from chatcore.conversation import Conversation, Customer, Status
from chatcore.messages import Message, Sender, SenderType
from chatcore.ports import ConversationListing, ListingCursor, UnitOfWork, UnitOfWorkFactory
from chatcore.presence import Link, Presence, PresenceStatus

T0 = datetime(2026, 11, 25, 21, 49, 26, 123000, tzinfo=UTC)
ALL = frozenset(Status)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def new_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def committed(uow_factory: UnitOfWorkFactory) -> Iterator[UnitOfWork]:
    with uow_factory() as uow:
        yield uow
        uow.commit()


def reading(uow_factory: UnitOfWorkFactory) -> UnitOfWork:
    return uow_factory(write=False)


def make_agent(
    name: str = "Alice",
    *,
    role: Role = Role.AGENT,
    presence: Presence | None = None,
    active: bool = True,
    created_at: datetime = T0,
    last_assigned_at: datetime | None = None,
) -> Agent:
    return Agent(
        id=new_id(),
        email=f"{name.lower()}-{uuid.uuid4().hex[:8]}@shop.example",
        display_name=name,
        role=role,
        password_hash="$2b$04$" + uuid.uuid4().hex,
        created_at=created_at,
        active=active,
        presence=presence or Presence(),
        last_assigned_at=last_assigned_at,
    )


def make_conversation(
    session_id: str,
    *,
    updated_at: datetime = T0,
    status: Status = Status.AUTOMATED,
    agent: Agent | None = None,
    closed_by: Agent | None = None,
    conversation_id: str | None = None,
) -> Conversation:
    return Conversation(
        id=conversation_id or new_id(),
        session_id=session_id,
        customer=Customer("Guest 4821"),
        created_at=T0,
        updated_at=updated_at,
        status=status,
        assigned_agent_id=agent.id if agent else None,
        escalated_at=T0 if agent else None,
        closed_at=updated_at if closed_by else None,
        closed_by_id=closed_by.id if closed_by else None,
    )


def customer(conversation: Conversation) -> Sender:
    return Sender(SenderType.CUSTOMER, None, conversation.customer.display_name)


BOT = Sender(SenderType.BOT, None, "Assistant")


def append(
    conversation: Conversation, sender: Sender, body: str = "Hello", **extra: str | None
) -> Message:
    return conversation.append(
        sender, body, message_id=new_id(), now=conversation.updated_at, **extra
    )


class Fixtures:
    """Shared set-up: every test gets a fresh store and a session to hang chats on."""

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        raise NotImplementedError("an adapter's test module provides uow_factory")

    @pytest.fixture
    def integrity_error(self) -> type[Exception]:
        raise NotImplementedError("an adapter's test module provides integrity_error")

    @pytest.fixture
    def session_id(self, uow_factory: UnitOfWorkFactory) -> str:
        session_id = uuid.uuid4().hex + uuid.uuid4().hex
        with committed(uow_factory) as uow:
            uow.sessions.add(session_id, created_at=T0)
        return session_id

    def add_agents(self, uow_factory: UnitOfWorkFactory, *agents: Agent) -> None:
        with committed(uow_factory) as uow:
            for agent in agents:
                uow.agents.add(agent)

    def add_conversations(self, uow_factory: UnitOfWorkFactory, *chats: Conversation) -> None:
        with committed(uow_factory) as uow:
            for conversation in chats:
                uow.conversations.add(conversation)


class UnitOfWorkContract(Fixtures):
    def test_commit_makes_writes_visible_to_later_units(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        with reading(uow_factory) as uow:
            assert uow.sessions.exists(session_id)

    def test_leaving_without_commit_rolls_back(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            uow.sessions.add("forgotten", created_at=T0)
            uow.faqs.add(FaqEntry("uncommitted", "Q?", "A."))
        with reading(uow_factory) as uow:
            assert not uow.sessions.exists("forgotten")
            assert uow.faqs.get("uncommitted") is None

    def test_an_exception_rolls_back(self, uow_factory: UnitOfWorkFactory) -> None:
        def fail_midway() -> None:
            with uow_factory() as uow:
                uow.sessions.add("doomed", created_at=T0)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail_midway()
        with reading(uow_factory) as uow:
            assert not uow.sessions.exists("doomed")

    def test_a_failed_statement_leaves_the_store_usable(
        self, uow_factory: UnitOfWorkFactory, integrity_error: type[Exception], session_id: str
    ) -> None:
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.sessions.add(session_id, created_at=T0)
        with committed(uow_factory) as uow:
            uow.sessions.add("next", created_at=T0)
        with reading(uow_factory) as uow:
            assert uow.sessions.exists("next")


class SessionContract(Fixtures):
    def test_sessions_exist_once_added(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        with reading(uow_factory) as uow:
            assert uow.sessions.exists(session_id)
            assert not uow.sessions.exists("never-issued")

    def test_a_conversation_needs_a_known_session(
        self, uow_factory: UnitOfWorkFactory, integrity_error: type[Exception]
    ) -> None:
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.conversations.add(make_conversation("no-such-session"))


class ConversationContract(Fixtures):
    def test_round_trip_of_a_new_conversation(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        conversation = make_conversation(session_id)
        self.add_conversations(uow_factory, conversation)
        with reading(uow_factory) as uow:
            assert uow.conversations.get(conversation.id) == conversation
            assert uow.conversations.get("no-such-conversation") is None

    def test_round_trip_of_every_conversation_field(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        holder, closer = make_agent("Alice"), make_agent("Bob", role=Role.ADMIN)
        self.add_agents(uow_factory, holder, closer)
        conversation = Conversation(
            id=new_id(),
            session_id=session_id,
            customer=Customer("Zoë Ørsted", "zoe@example.org"),
            created_at=at(1),
            updated_at=at(9),
            status=Status.CLOSED,
            assigned_agent_id=holder.id,
            escalated_at=at(2),
            closed_at=at(9),
            closed_by_id=closer.id,
            last_seq=0,
        )
        self.add_conversations(uow_factory, conversation)
        with reading(uow_factory) as uow:
            assert uow.conversations.get(conversation.id) == conversation

    def test_save_overwrites_every_field(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        agent = make_agent()
        self.add_agents(uow_factory, agent)
        conversation = make_conversation(session_id)
        self.add_conversations(uow_factory, conversation)
        with committed(uow_factory) as uow:
            message = append(conversation, customer(conversation))
            uow.messages.add(message)
            conversation.status = Status.AGENT
            conversation.assigned_agent_id = agent.id
            conversation.escalated_at = conversation.updated_at = at(5)
            uow.conversations.save(conversation)
        with reading(uow_factory) as uow:
            assert uow.conversations.get(conversation.id) == conversation
            assert conversation.last_seq == 1

    def test_held_by_filters_by_holder_and_status(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        alice, bob = make_agent("Alice"), make_agent("Bob")
        self.add_agents(uow_factory, alice, bob)
        mine = make_conversation(session_id, status=Status.AGENT, agent=alice, updated_at=at(2))
        mine_too = make_conversation(session_id, status=Status.AGENT, agent=alice, updated_at=at(1))
        closed = make_conversation(session_id, status=Status.CLOSED, agent=alice, closed_by=alice)
        theirs = make_conversation(session_id, status=Status.AGENT, agent=bob)
        self.add_conversations(uow_factory, mine, mine_too, closed, theirs)
        with reading(uow_factory) as uow:
            held = uow.conversations.held_by(alice.id, status=Status.AGENT)
            assert {c.id for c in held} == {mine.id, mine_too.id}
            assert uow.conversations.held_by(alice.id, status=Status.CLOSED) == [closed]
            assert uow.conversations.held_by(new_id(), status=Status.AGENT) == []

    def test_candidate_loads_count_agent_conversations_only(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        alice, bob, carol = make_agent("Alice"), make_agent("Bob"), make_agent("Carol")
        self.add_agents(uow_factory, alice, bob, carol)
        self.add_conversations(
            uow_factory,
            make_conversation(session_id, status=Status.AGENT, agent=alice),
            make_conversation(session_id, status=Status.AGENT, agent=alice),
            make_conversation(session_id, status=Status.AGENT, agent=bob),
            make_conversation(session_id, status=Status.CLOSED, agent=carol, closed_by=carol),
            make_conversation(session_id),
        )
        with reading(uow_factory) as uow:
            loads = {c.agent_id: c.load for c in uow.agents.candidates()}
        assert loads == {alice.id: 2, bob.id: 1, carol.id: 0}


@dataclass(frozen=True)
class World:
    """Alice (an agent) and Bob (an admin), and chats in every corner of the listing."""

    alice: Agent
    bob: Agent
    chats: dict[str, Conversation]


class ListingContract(Fixtures):
    """The agents' list: who sees what, newest activity first, paged by keyset."""

    @pytest.fixture
    def world(self, uow_factory: UnitOfWorkFactory, session_id: str) -> World:
        alice = make_agent("Alice")
        bob = make_agent("Bob", role=Role.ADMIN)
        self.add_agents(uow_factory, alice, bob)
        chats = {
            "bot_old": make_conversation(session_id, updated_at=at(1)),
            "bot_new": make_conversation(session_id, updated_at=at(12)),
            "alice_open": make_conversation(
                session_id, status=Status.AGENT, agent=alice, updated_at=at(7)
            ),
            "bob_open": make_conversation(
                session_id, status=Status.AGENT, agent=bob, updated_at=at(8)
            ),
            "alice_closed_own": make_conversation(
                session_id, status=Status.CLOSED, agent=alice, closed_by=alice, updated_at=at(4)
            ),
            "alice_closed_bobs": make_conversation(
                session_id, status=Status.CLOSED, agent=bob, closed_by=alice, updated_at=at(5)
            ),
            "bob_closed_alices": make_conversation(
                session_id, status=Status.CLOSED, agent=alice, closed_by=bob, updated_at=at(6)
            ),
            "bob_closed_own": make_conversation(
                session_id, status=Status.CLOSED, agent=bob, closed_by=bob, updated_at=at(3)
            ),
        }
        self.add_conversations(uow_factory, *chats.values())
        return World(alice, bob, chats)

    def names(
        self,
        uow_factory: UnitOfWorkFactory,
        world: World,
        statuses: frozenset[Status],
        viewer: Agent | None,
        limit: int = 100,
    ) -> list[str]:
        by_id = {c.id: name for name, c in world.chats.items()}
        query = ConversationListing(statuses, viewer.id if viewer else None, limit)
        with reading(uow_factory) as uow:
            return [by_id[v.conversation.id] for v in uow.conversations.listing(query)]

    def test_automated_ones_are_everyones(
        self, uow_factory: UnitOfWorkFactory, world: World
    ) -> None:
        for viewer in (world.alice, None):
            assert self.names(uow_factory, world, frozenset({Status.AUTOMATED}), viewer) == [
                "bot_new",
                "bot_old",
            ]

    def test_agent_ones_are_the_viewers_own_or_all_for_an_admin(
        self, uow_factory: UnitOfWorkFactory, world: World
    ) -> None:
        agent_only = frozenset({Status.AGENT})
        assert self.names(uow_factory, world, agent_only, world.alice) == ["alice_open"]
        assert self.names(uow_factory, world, agent_only, None) == ["bob_open", "alice_open"]

    def test_closed_ones_are_those_the_viewer_held_or_closed(
        self, uow_factory: UnitOfWorkFactory, world: World
    ) -> None:
        closed = frozenset({Status.CLOSED})
        assert self.names(uow_factory, world, closed, world.alice) == [
            "bob_closed_alices",
            "alice_closed_bobs",
            "alice_closed_own",
        ]
        assert self.names(uow_factory, world, closed, None) == [
            "bob_closed_alices",
            "alice_closed_bobs",
            "alice_closed_own",
            "bob_closed_own",
        ]

    def test_all_statuses_together_newest_first(
        self, uow_factory: UnitOfWorkFactory, world: World
    ) -> None:
        assert self.names(uow_factory, world, ALL, world.alice) == [
            "bot_new",
            "alice_open",
            "bob_closed_alices",
            "alice_closed_bobs",
            "alice_closed_own",
            "bot_old",
        ]
        assert len(self.names(uow_factory, world, ALL, None)) == len(world.chats)
        assert self.names(uow_factory, world, frozenset(), None) == []

    def test_limit_cuts_the_page(self, uow_factory: UnitOfWorkFactory, world: World) -> None:
        assert self.names(uow_factory, world, ALL, None, limit=3) == [
            "bot_new",
            "bob_open",
            "alice_open",
        ]

    def test_each_view_carries_its_holder_and_last_message(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        lapsed = Presence(PresenceStatus.ONLINE, Link.LAPSED, 0, at(-100))
        alice = make_agent("Alice", presence=lapsed)
        self.add_agents(uow_factory, alice)
        quiet = make_conversation(session_id, updated_at=at(1))
        busy = make_conversation(session_id, status=Status.AGENT, agent=alice, updated_at=at(2))
        self.add_conversations(uow_factory, quiet, busy)
        with committed(uow_factory) as uow:
            first = append(busy, customer(busy), "Where is my parcel?")
            last = append(busy, Sender(SenderType.AGENT, alice.id, "Alice"), "On its way!")
            uow.messages.add(first)
            uow.messages.add(last)
            uow.conversations.save(busy)
        query = ConversationListing(ALL, None, 10)
        with reading(uow_factory) as uow:
            busy_view, quiet_view = uow.conversations.listing(query)
        assert busy_view.conversation == busy
        assert busy_view.last_message == last
        # Effective presence: the choice was "online" but the link has lapsed.
        assert busy_view.assigned_agent == AgentSummary(alice.id, "Alice", PresenceStatus.OFFLINE)
        assert busy_view.assigned_agent == alice.summary
        assert quiet_view.conversation == quiet
        assert quiet_view.assigned_agent is None
        assert quiet_view.last_message is None

    def test_ties_in_time_are_broken_by_id_descending(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        chats = [make_conversation(session_id, updated_at=at(1)) for _ in range(5)]
        self.add_conversations(uow_factory, *chats)
        with reading(uow_factory) as uow:
            views = uow.conversations.listing(ConversationListing(ALL, None, 10))
        assert [v.conversation.id for v in views] == sorted((c.id for c in chats), reverse=True)

    @pytest.mark.parametrize("page_size", [1, 2, 3, 5])
    def test_keyset_pages_walk_everything_once_in_order(
        self, uow_factory: UnitOfWorkFactory, world: World, page_size: int
    ) -> None:
        # Two more with the same time as another row: the cursor must split ties exactly.
        session_id = world.chats["bot_old"].session_id
        extra = [make_conversation(session_id, updated_at=at(7)) for _ in range(2)]
        self.add_conversations(uow_factory, *extra)
        for viewer in (world.alice.id, world.bob.id, None):
            with reading(uow_factory) as uow:
                everything = uow.conversations.listing(ConversationListing(ALL, viewer, 100))
            walked: list[str] = []
            cursor: ListingCursor | None = None
            while True:
                query = ConversationListing(ALL, viewer, page_size, after=cursor)
                with reading(uow_factory) as uow:
                    page = uow.conversations.listing(query)
                assert len(page) <= page_size
                walked.extend(v.conversation.id for v in page)
                if len(page) < page_size:
                    break
                last = page[-1].conversation
                cursor = ListingCursor(last.updated_at, last.id)
            assert walked == [v.conversation.id for v in everything]


class MessageContract(Fixtures):
    @pytest.fixture
    def chat(self, uow_factory: UnitOfWorkFactory, session_id: str) -> Conversation:
        conversation = make_conversation(session_id)
        self.add_conversations(uow_factory, conversation)
        return conversation

    def store(self, uow_factory: UnitOfWorkFactory, chat: Conversation, *m: Message) -> None:
        with committed(uow_factory) as uow:
            for message in m:
                uow.messages.add(message)
            uow.conversations.save(chat)

    def test_round_trip_of_every_message_field(
        self, uow_factory: UnitOfWorkFactory, chat: Conversation
    ) -> None:
        agent = make_agent("Alice")
        self.add_agents(uow_factory, agent)
        question = append(chat, customer(chat), "Where is my order?", client_message_id="c-1")
        answer = append(chat, BOT, "Here: …", faq_slug="track-order", reply_to=question.id)
        spoken = append(
            chat, Sender(SenderType.AGENT, agent.id, "Alice"), "Hi 👋", client_message_id="a-1"
        )
        system = append(chat, Sender(SenderType.SYSTEM, None, "chatcore"), "Alice joined")
        self.store(uow_factory, chat, question, answer, spoken, system)
        with reading(uow_factory) as uow:
            assert uow.messages.after(chat.id, after_seq=0, limit=10) == [
                question,
                answer,
                spoken,
                system,
            ]

    def test_after_pages_ascending(
        self, uow_factory: UnitOfWorkFactory, chat: Conversation, session_id: str
    ) -> None:
        messages = [append(chat, customer(chat), f"#{n}") for n in range(1, 8)]
        other = make_conversation(session_id)
        self.add_conversations(uow_factory, other)
        self.store(uow_factory, chat, *messages)
        self.store(uow_factory, other, append(other, customer(other)))
        with reading(uow_factory) as uow:
            assert uow.messages.after(chat.id, after_seq=0, limit=3) == messages[:3]
            assert uow.messages.after(chat.id, after_seq=3, limit=3) == messages[3:6]
            assert uow.messages.after(chat.id, after_seq=6, limit=3) == messages[6:]
            assert uow.messages.after(chat.id, after_seq=7, limit=3) == []
            assert [m.seq for m in uow.messages.after(other.id, after_seq=0, limit=9)] == [1]

    def test_by_client_id_is_per_sender(
        self, uow_factory: UnitOfWorkFactory, chat: Conversation
    ) -> None:
        alice, bob = make_agent("Alice"), make_agent("Bob")
        self.add_agents(uow_factory, alice, bob)
        mine = append(chat, customer(chat), client_message_id="k")
        hers = append(chat, Sender(SenderType.AGENT, alice.id, "Alice"), client_message_id="k")
        self.store(uow_factory, chat, mine, hers)
        with reading(uow_factory) as uow:
            lookup = uow.messages.by_client_id
            assert (
                lookup(
                    chat.id, sender_type=SenderType.CUSTOMER, sender_id=None, client_message_id="k"
                )
                == mine
            )
            assert (
                lookup(
                    chat.id, sender_type=SenderType.AGENT, sender_id=alice.id, client_message_id="k"
                )
                == hers
            )
            assert (
                lookup(
                    chat.id, sender_type=SenderType.AGENT, sender_id=bob.id, client_message_id="k"
                )
                is None
            )
            assert (
                lookup(
                    chat.id, sender_type=SenderType.CUSTOMER, sender_id=None, client_message_id="x"
                )
                is None
            )
            assert (
                lookup(
                    new_id(), sender_type=SenderType.CUSTOMER, sender_id=None, client_message_id="k"
                )
                is None
            )

    def test_replies_to_come_ascending(
        self, uow_factory: UnitOfWorkFactory, chat: Conversation
    ) -> None:
        question = append(chat, customer(chat), "Refund?")
        first = append(chat, BOT, "One", reply_to=question.id)
        unrelated = append(chat, customer(chat), "Also…")
        second = append(chat, BOT, "Two", reply_to=question.id)
        self.store(uow_factory, chat, question, first, unrelated, second)
        with reading(uow_factory) as uow:
            assert uow.messages.replies_to(question.id) == [first, second]
            assert uow.messages.replies_to(second.id) == []

    def test_seq_is_unique_per_conversation(
        self,
        uow_factory: UnitOfWorkFactory,
        chat: Conversation,
        session_id: str,
        integrity_error: type[Exception],
    ) -> None:
        first = append(chat, customer(chat))
        self.store(uow_factory, chat, first)
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.messages.add(replace(first, id=new_id(), body="Same seq"))
        other = make_conversation(session_id)
        self.add_conversations(uow_factory, other)
        self.store(uow_factory, other, replace(first, id=new_id(), conversation_id=other.id))

    @pytest.mark.parametrize("sender_type", [SenderType.CUSTOMER, SenderType.AGENT])
    def test_client_message_id_is_unique_per_sender(
        self,
        uow_factory: UnitOfWorkFactory,
        chat: Conversation,
        integrity_error: type[Exception],
        sender_type: SenderType,
    ) -> None:
        alice, bob = make_agent("Alice"), make_agent("Bob")
        self.add_agents(uow_factory, alice, bob)
        sender_id = alice.id if sender_type is SenderType.AGENT else None
        sender = Sender(sender_type, sender_id, "Someone")
        self.store(uow_factory, chat, append(chat, sender, client_message_id="k"))
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.messages.add(append(chat, sender, "again", client_message_id="k"))
        # Another sender may use the same key; messages without a key never collide.
        bobs = Sender(SenderType.AGENT, bob.id, "Bob")
        self.store(
            uow_factory,
            chat,
            append(chat, bobs, client_message_id="k"),
            append(chat, sender),
            append(chat, sender),
        )
        with reading(uow_factory) as uow:
            assert len(uow.messages.after(chat.id, after_seq=0, limit=10)) == 4

    def test_faq_slug_outlives_its_entry(
        self, uow_factory: UnitOfWorkFactory, chat: Conversation
    ) -> None:
        with committed(uow_factory) as uow:
            uow.faqs.add(FaqEntry("gift-cards", "Gift cards?", "Yes!"))
        answer = append(chat, BOT, "Yes!", faq_slug="gift-cards")
        self.store(uow_factory, chat, answer)
        with committed(uow_factory) as uow:
            uow.faqs.delete("gift-cards")
        with reading(uow_factory) as uow:
            assert uow.messages.after(chat.id, after_seq=0, limit=1) == [answer]


class AgentContract(Fixtures):
    def test_round_trip_of_every_agent_field(self, uow_factory: UnitOfWorkFactory) -> None:
        fresh = make_agent("Alice")
        full = make_agent(
            "Bob",
            role=Role.ADMIN,
            active=False,
            presence=Presence(PresenceStatus.AWAY, Link.GRACE, 0, at(30)),
            created_at=at(1),
            last_assigned_at=at(20),
        )
        live = make_agent("Carol", presence=Presence(PresenceStatus.ONLINE, Link.LIVE, 3, None))
        self.add_agents(uow_factory, fresh, full, live)
        with reading(uow_factory) as uow:
            for agent in (fresh, full, live):
                assert uow.agents.get(agent.id) == agent
                assert uow.agents.by_email(agent.email) == agent
            assert uow.agents.get(new_id()) is None
            assert uow.agents.by_email("nobody@shop.example") is None

    def test_with_link_lists_only_agents_in_that_connection_state(
        self, uow_factory: UnitOfWorkFactory
    ) -> None:
        idle = make_agent("Ida")
        going = make_agent("Gus", presence=Presence(PresenceStatus.ONLINE, Link.GRACE, 0, at(1)))
        live = make_agent("Liv", presence=Presence(PresenceStatus.ONLINE, Link.LIVE, 2, None))
        self.add_agents(uow_factory, idle, going, live)
        with reading(uow_factory) as uow:
            assert uow.agents.with_link(Link.GRACE) == [going]
            assert uow.agents.with_link(Link.LIVE) == [live]
            assert uow.agents.with_link(Link.IDLE) == [idle]
            assert uow.agents.with_link(Link.LAPSED) == []

    def test_save_all_and_count(self, uow_factory: UnitOfWorkFactory) -> None:
        older = make_agent("Zed", created_at=at(-5))
        newer = make_agent("Amy", created_at=at(5))
        with reading(uow_factory) as uow:
            assert uow.agents.count() == 0
            assert uow.agents.all() == []
        self.add_agents(uow_factory, newer, older)
        newer.display_name = "Amy Pond"
        newer.password_hash = "$2b$04$changed"
        newer.presence = Presence(PresenceStatus.ONLINE, Link.LAPSED, 0, at(9))
        newer.last_assigned_at = at(10)
        newer.active = False
        with committed(uow_factory) as uow:
            uow.agents.save(newer)
        with reading(uow_factory) as uow:
            assert uow.agents.count() == 2
            assert uow.agents.all() == [older, newer]  # oldest account first

    def test_email_is_unique(
        self, uow_factory: UnitOfWorkFactory, integrity_error: type[Exception]
    ) -> None:
        alice = make_agent("Alice")
        self.add_agents(uow_factory, alice)
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.agents.add(replace(make_agent("Other"), email=alice.email))

    def test_candidates_are_active_agents_with_their_load(
        self, uow_factory: UnitOfWorkFactory, session_id: str
    ) -> None:
        online = Presence(PresenceStatus.ONLINE, Link.LIVE, 1, None)
        lapsed = Presence(PresenceStatus.ONLINE, Link.LAPSED, 0, at(1))
        busy = make_agent("Busy", presence=online, last_assigned_at=at(3))
        idle = make_agent("Idle", presence=online)
        gone = make_agent("Gone", presence=lapsed)
        retired = make_agent("Retired", presence=online, active=False)
        self.add_agents(uow_factory, busy, idle, gone, retired)
        self.add_conversations(
            uow_factory,
            make_conversation(session_id, status=Status.AGENT, agent=busy),
            make_conversation(session_id, status=Status.AGENT, agent=busy),
            make_conversation(session_id, status=Status.CLOSED, agent=idle, closed_by=idle),
            make_conversation(session_id, status=Status.AGENT, agent=retired),
        )
        with reading(uow_factory) as uow:
            candidates = {c.agent_id: c for c in uow.agents.candidates()}
        assert set(candidates) == {busy.id, idle.id, gone.id}
        assert candidates[busy.id].load == 2
        assert candidates[busy.id].last_assigned_at == at(3)
        assert candidates[idle.id].load == 0
        assert candidates[idle.id].last_assigned_at is None
        assert candidates[idle.id].presence is PresenceStatus.ONLINE
        assert candidates[gone.id].presence is PresenceStatus.OFFLINE  # effective, not chosen
        assert all(c.active for c in candidates.values())


class FaqContract(Fixtures):
    @pytest.fixture
    def empty(self, uow_factory: UnitOfWorkFactory) -> None:
        """Remove whatever a fresh store was seeded with."""
        with committed(uow_factory) as uow:
            for entry in uow.faqs.all():
                uow.faqs.delete(entry.slug)

    @pytest.mark.usefixtures("empty")
    def test_display_order_is_position_then_slug(self, uow_factory: UnitOfWorkFactory) -> None:
        entries = [
            FaqEntry("zeta", "Z?", "z", position=1),
            FaqEntry("beta", "B?", "b", position=2),
            FaqEntry("alpha", "A?", "a", position=2),
            FaqEntry("omega", "O?", "o", position=0),
        ]
        with committed(uow_factory) as uow:
            for entry in entries:
                uow.faqs.add(entry)
        with reading(uow_factory) as uow:
            assert [e.slug for e in uow.faqs.all()] == ["omega", "zeta", "alpha", "beta"]

    @pytest.mark.usefixtures("empty")
    def test_add_get_save_delete(self, uow_factory: UnitOfWorkFactory) -> None:
        entry = FaqEntry("gift-cards", "Do you sell gift cards?", "Yes, from $10.", position=3)
        with committed(uow_factory) as uow:
            uow.faqs.add(entry)
        with reading(uow_factory) as uow:
            assert uow.faqs.get("gift-cards") == entry
            assert uow.faqs.get("nothing-here") is None
        changed = FaqEntry("gift-cards", "Gift cards?", "Yes, from $5.", position=0)
        with committed(uow_factory) as uow:
            uow.faqs.save(changed)
        with reading(uow_factory) as uow:
            assert uow.faqs.all() == [changed]
        with committed(uow_factory) as uow:
            uow.faqs.delete("gift-cards")
        with reading(uow_factory) as uow:
            assert uow.faqs.all() == []

    def test_slug_is_unique(
        self, uow_factory: UnitOfWorkFactory, integrity_error: type[Exception]
    ) -> None:
        with committed(uow_factory) as uow:
            uow.faqs.add(FaqEntry("gift-cards", "Q?", "A."))
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.faqs.add(FaqEntry("gift-cards", "Other?", "Other."))


class TokenContract(Fixtures):
    @pytest.fixture
    def agents(self, uow_factory: UnitOfWorkFactory) -> tuple[Agent, Agent]:
        alice, bob = make_agent("Alice"), make_agent("Bob")
        self.add_agents(uow_factory, alice, bob)
        return alice, bob

    def live(
        self, uow_factory: UnitOfWorkFactory, owners: dict[str, Agent], now: datetime = T0
    ) -> set[str]:
        """Which of these token ids are live for the agent given for each."""
        with reading(uow_factory) as uow:
            return {t for t, a in owners.items() if uow.tokens.is_live(t, agent_id=a.id, now=now)}

    def test_a_token_lives_until_it_expires(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        alice = agents[0]
        with committed(uow_factory) as uow:
            uow.tokens.add("t1", agent_id=alice.id, expires_at=at(60))
        assert self.live(uow_factory, {"t1": alice, "unknown": alice}) == {"t1"}
        assert self.live(uow_factory, {"t1": alice}, now=at(59)) == {"t1"}
        assert self.live(uow_factory, {"t1": alice}, now=at(60)) == set()

    def test_a_token_id_is_live_only_for_its_own_agent(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        alice, bob = agents
        with committed(uow_factory) as uow:
            uow.tokens.add("t1", agent_id=alice.id, expires_at=at(60))
        assert self.live(uow_factory, {"t1": bob}) == set()

    def test_revoke_and_revoke_all(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        alice, bob = agents
        with committed(uow_factory) as uow:
            for token, agent in [("a1", alice), ("a2", alice), ("a3", alice), ("b1", bob)]:
                uow.tokens.add(token, agent_id=agent.id, expires_at=at(60))
        tokens = {"a1": alice, "a2": alice, "a3": alice, "b1": bob}
        with committed(uow_factory) as uow:
            uow.tokens.revoke("a1")
        assert self.live(uow_factory, tokens) == {"a2", "a3", "b1"}
        with committed(uow_factory) as uow:
            uow.tokens.revoke_all(alice.id, keep="a3")
        assert self.live(uow_factory, tokens) == {"a3", "b1"}
        with committed(uow_factory) as uow:
            uow.tokens.revoke_all(alice.id)
        assert self.live(uow_factory, tokens) == {"b1"}

    def test_purge_expired_removes_only_dead_rows(
        self, uow_factory: UnitOfWorkFactory, agents: tuple[Agent, Agent]
    ) -> None:
        with committed(uow_factory) as uow:
            uow.tokens.add("old", agent_id=agents[0].id, expires_at=at(10))
            uow.tokens.add("new", agent_id=agents[1].id, expires_at=at(100))
        with committed(uow_factory) as uow:
            uow.tokens.purge_expired(now=at(50))
        # Asked as of an earlier time, only a row that is really gone reads as dead.
        owners = {"old": agents[0], "new": agents[1]}
        assert self.live(uow_factory, owners, now=at(0)) == {"new"}

    def test_a_token_needs_a_known_agent(
        self, uow_factory: UnitOfWorkFactory, integrity_error: type[Exception]
    ) -> None:
        with pytest.raises(integrity_error), uow_factory() as uow:
            uow.tokens.add("t", agent_id=new_id(), expires_at=at(60))


class StorageContract(
    UnitOfWorkContract,
    SessionContract,
    ConversationContract,
    ListingContract,
    MessageContract,
    AgentContract,
    FaqContract,
    TokenContract,
):
    """Everything above, for one adapter: subclass it as ``Test…`` and give the fixtures."""
