"""Escalation is atomic on PostgreSQL across instances: the real use cases, many threads.

Two PostgresDatabase objects over one database stand in for two server processes:
separate pools, so nothing in the process serializes them and only the row locks
can keep each read-choose-assign sequence indivisible.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from adapters.postgres import PostgresDatabase
from chatcore.agents import Agent, Role
from chatcore.bot import FaqEntry
from chatcore.conversation import Status
from chatcore.errors import SlugTaken
from chatcore.usecases import Actor, Context, customer
from chatcore.usecases import admin as admin_usecases
from support.contracts.storage import committed, make_agent
from support.races import (
    PostgresRace,
    RecordingPublisher,
    check_capacity_race,
    check_one_assignment,
    race,
)


class TestOneConversation(PostgresRace):
    def test_fifty_racing_escalations_on_two_instances_assign_exactly_once(
        self,
        instances: list[Context],
        database: PostgresDatabase,
        publisher: RecordingPublisher,
        agents: list[Agent],
    ) -> None:
        started = customer.start_conversation(instances[0])
        chat_id, session = started.view.conversation.id, started.session_id
        publisher.events.clear()

        outcomes = race(
            [
                partial(customer.escalate, instances[i % 2], chat_id, session_id=session)
                for i in range(50)
            ]
        )

        assert len(outcomes) == 50
        check_one_assignment(
            outcomes, chat_id=chat_id, agents=agents, publisher=publisher, uow=database.uow
        )


class TestCapacity(PostgresRace):
    capacity = 2

    def test_concurrent_escalations_on_two_instances_never_exceed_capacity(
        self,
        instances: list[Context],
        database: PostgresDatabase,
        publisher: RecordingPublisher,
        agents: list[Agent],
    ) -> None:
        chats = [customer.start_conversation(instances[0]) for _ in range(10)]
        publisher.events.clear()
        calls = [
            (
                lambda c=c, ctx=instances[(i + n) % 2]: customer.escalate(
                    ctx, c.view.conversation.id, session_id=c.session_id
                )
            )
            for i, c in enumerate(chats)
            for n in range(3)  # every customer taps three times, through both instances
        ]

        outcomes = race(calls)

        check_capacity_race(
            outcomes, agents=agents, chats=chats, publisher=publisher, uow=database.uow
        )


class TestMessagesAndEscalations(PostgresRace):
    def test_racing_messages_and_escalations_keep_seq_gapless(
        self, instances: list[Context], database: PostgresDatabase, agents: list[Agent]
    ) -> None:
        chats = [customer.start_conversation(instances[0]) for _ in range(4)]
        calls: list[Callable[[], object]] = []
        for i, chat in enumerate(chats):
            chat_id, session = chat.view.conversation.id, chat.session_id
            for n in range(8):
                ctx = instances[(i + n) % 2]
                if n == 3:
                    calls.append(partial(customer.escalate, ctx, chat_id, session_id=session))
                else:
                    calls.append(
                        partial(
                            customer.post_customer_message,
                            ctx,
                            chat_id,
                            session_id=session,
                            body=f"message {n}",
                        )
                    )

        outcomes = race(calls)

        assert not [o for o in outcomes if isinstance(o, Exception)]
        with database.uow(write=False) as uow:
            for chat in chats:
                messages = uow.messages.after(chat.view.conversation.id, after_seq=0, limit=500)
                assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
                stored = uow.conversations.get(chat.view.conversation.id)
                assert stored is not None
                assert stored.last_seq == len(messages)
                assert stored.status is Status.AGENT


class TestQuickQuestionSlugRace(PostgresRace):
    def test_two_admins_creating_one_slug_get_one_entry_and_one_409(
        self, instances: list[Context], database: PostgresDatabase
    ) -> None:
        admins = [make_agent(name, role=Role.ADMIN) for name in ("Ada", "Ben")]
        with committed(database.uow) as uow:
            for admin in admins:
                uow.agents.add(admin)
        calls = [
            partial(
                admin_usecases.create_faq,
                ctx,
                Actor(person.id, f"token-{person.id}"),
                slug="opening-hours",
                question="When are you open?",
                answer=f"Ask {person.display_name}.",
            )
            for ctx, person in zip(instances * 4, admins * 4, strict=True)
        ]
        outcomes = race(calls)
        assert sum(isinstance(o, FaqEntry) for o in outcomes) == 1
        assert all(isinstance(o, FaqEntry | SlugTaken) for o in outcomes), outcomes
        with database.uow(write=False) as uow:
            assert [e.slug for e in uow.faqs.all()].count("opening-hours") == 1
