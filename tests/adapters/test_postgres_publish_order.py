"""A conversation's events leave in seq order on PostgreSQL, whichever instance wrote them.

Row locks end at COMMIT, and events are published after it. A publisher that
takes its time (Redis across the network, say) opens the gap in which the next
writer of the conversation, on another instance, could commit seq N+1 and publish
it first: every socket would then see N+1 before N. Measured: the benchmark's
two-instance mode saw it at 350 messages a second. Here the gap is widened on
purpose, and the events must still come out in order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from adapters.postgres import PostgresDatabase
from chatcore.events import DomainEvent, MessageCreated
from chatcore.usecases import Context, customer
from support.races import PostgresRace, race


class SlowPublisher:
    """Records events in the order they were published, after a pause like a network's."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.seqs: list[int] = []
        self._lock = threading.Lock()

    def publish(self, events: Sequence[DomainEvent]) -> None:
        time.sleep(self.pause)
        with self._lock:
            self.seqs.extend(e.message.seq for e in events if isinstance(e, MessageCreated))


class TestPublishOrder(PostgresRace):
    @pytest.fixture
    def slow(self) -> SlowPublisher:
        return SlowPublisher(pause=0.005)

    @pytest.fixture
    def slow_instances(
        self,
        database: PostgresDatabase,
        other_database: PostgresDatabase,
        slow: SlowPublisher,
    ) -> list[Context]:
        return [self.context(db, slow) for db in (database, other_database)]

    def test_messages_racing_on_two_instances_are_published_in_seq_order(
        self, slow_instances: list[Context], slow: SlowPublisher, database: PostgresDatabase
    ) -> None:
        chat = customer.start_conversation(slow_instances[0])
        chat_id, session = chat.view.conversation.id, chat.session_id
        slow.seqs.clear()
        posts = [
            lambda ctx=slow_instances[n % 2], n=n: customer.post_customer_message(
                ctx, chat_id, session_id=session, body=f"question {n}?"
            )
            for n in range(24)
        ]
        assert [o for o in race(posts) if isinstance(o, Exception)] == []
        with database.uow(write=False) as uow:
            stored = uow.conversations.get(chat_id)
        assert stored is not None
        # Every message of the race (bot answers included), once each, in seq order.
        assert slow.seqs == sorted(slow.seqs)
        assert slow.seqs == list(range(slow.seqs[0], stored.last_seq + 1))
