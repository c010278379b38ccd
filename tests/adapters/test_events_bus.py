"""InProcessEventBus: order, isolation of failing subscribers, unsubscribe, threads."""

from __future__ import annotations

import logging
import threading

import pytest

from adapters.events import InProcessEventBus
from chatcore.events import AgentAccessRevoked, AgentPresenceChanged, DomainEvent
from chatcore.presence import PresenceStatus
from support.contracts.bus import BusContract


def _events(count: int) -> list[DomainEvent]:
    return [AgentAccessRevoked(f"agent-{i}") for i in range(count)]


def test_every_subscriber_hears_every_event_in_order() -> None:
    bus = InProcessEventBus()
    heard: list[tuple[str, DomainEvent]] = []
    bus.subscribe(lambda e: heard.append(("first", e)))
    bus.subscribe(lambda e: heard.append(("second", e)))
    events = _events(3)
    bus.publish(events)
    assert heard == [(who, e) for e in events for who in ("first", "second")]


def test_publish_is_synchronous_on_the_callers_thread() -> None:
    bus = InProcessEventBus()
    threads: list[threading.Thread] = []
    bus.subscribe(lambda e: threads.append(threading.current_thread()))
    bus.publish(_events(1))
    assert threads == [threading.current_thread()]


def test_a_failing_subscriber_is_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    bus = InProcessEventBus()
    heard: list[DomainEvent] = []

    def broken(event: DomainEvent) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(heard.append)
    event = AgentPresenceChanged("a", "Alice", PresenceStatus.ONLINE)
    with caplog.at_level(logging.ERROR, logger="adapters.events"):
        bus.publish([event, event])
    assert heard == [event, event]
    assert len(caplog.records) == 2
    assert "AgentPresenceChanged" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is not None


def test_unsubscribe_stops_delivery_and_is_idempotent() -> None:
    bus = InProcessEventBus()
    heard: list[DomainEvent] = []
    unsubscribe = bus.subscribe(heard.append)
    bus.publish(_events(1))
    unsubscribe()
    unsubscribe()
    bus.publish(_events(1))
    assert len(heard) == 1


def test_the_same_callback_twice_is_two_subscriptions() -> None:
    bus = InProcessEventBus()
    heard: list[DomainEvent] = []
    first = bus.subscribe(heard.append)
    bus.subscribe(heard.append)
    bus.publish(_events(1))
    first()
    bus.publish(_events(1))
    assert len(heard) == 3


def test_a_subscriber_may_unsubscribe_itself_while_called() -> None:
    bus = InProcessEventBus()
    heard: list[DomainEvent] = []

    def once(event: DomainEvent) -> None:
        heard.append(event)
        unsubscribe()

    unsubscribe = bus.subscribe(once)
    bus.publish(_events(1))
    bus.publish(_events(1))
    assert len(heard) == 1


def test_publishing_with_no_subscribers_is_fine() -> None:
    InProcessEventBus().publish(_events(2))


def test_subscriptions_from_many_threads_are_all_kept() -> None:
    bus = InProcessEventBus()
    counts = [0] * 40
    lock = threading.Lock()

    def subscriber_for(index: int) -> None:
        def hear(event: DomainEvent) -> None:
            with lock:
                counts[index] += 1

        bus.subscribe(hear)

    threads = [threading.Thread(target=subscriber_for, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    publishers = [threading.Thread(target=bus.publish, args=(_events(5),)) for _ in range(8)]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join()
    assert counts == [40] * 40


def test_events_keep_their_identity() -> None:
    bus = InProcessEventBus()
    heard: list[DomainEvent] = []
    bus.subscribe(heard.append)
    event = AgentPresenceChanged("a", "Alice", PresenceStatus.AWAY)
    bus.publish((event,))
    assert heard[0] is event


class InProcessDriver:
    """The shared bus contract's view of the in-process bus: it has no channels."""

    def __init__(self) -> None:
        self.bus = InProcessEventBus()
        self.publish = self.bus.publish
        self.subscribe = self.bus.subscribe

    def listen(self, channel: str) -> None:
        pass  # every subscriber hears every event

    def forget(self, channel: str) -> None:
        pass

    def delivered(self, event: DomainEvent) -> object:
        return event  # the very event: see test_events_keep_their_identity


class TestInProcessBusContract(BusContract):
    @pytest.fixture
    def driver(self) -> InProcessDriver:
        return InProcessDriver()
