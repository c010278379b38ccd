"""The event bus contract: what any bus behind the EventPublisher port must do.

Reusable for every bus. Subclass ``BusContract`` in a ``test_*.py`` module and
provide a ``driver`` fixture: a ``BusDriver`` over a fresh bus. The driver smooths
over the two real differences between buses. Where the events come out: the
in-process bus calls its subscribers on the publishing thread and hears every
event; the Redis bus delivers on its listener's event loop, only for the channels
listened to. And what comes out (``delivered``): the in-process bus hands on the
event itself; the Redis bus, the bytes its publisher encoded the event to, as
they were. ``ChannelContract`` adds what only a bus with channels promises.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import pytest

from adapters.redis_bus.channels import channels_for
from chatcore.events import DomainEvent, MessageCreated
from chatcore.messages import Message, Sender, SenderType

T0 = datetime(2026, 11, 25, 21, 49, 26, 123000, tzinfo=UTC)


class BusDriver(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None: ...

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]: ...

    def delivered(self, event: DomainEvent) -> object:
        """What a subscriber is handed for ``event``."""
        ...

    def listen(self, channel: str) -> None:
        """Make events of ``channel`` reach this bus's subscribers (no-op without channels)."""
        ...

    def forget(self, channel: str) -> None: ...


class Recorder:
    """A subscriber that may be called on any thread, and waits for what it expects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[object] = []

    def __call__(self, event: object) -> None:
        with self._lock:
            self._events.append(event)

    @property
    def events(self) -> list[object]:
        with self._lock:
            return list(self._events)

    def wait_for(self, count: int, *, timeout: float = 5.0) -> list[object]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.002)
        events = self.events
        assert len(events) >= count, f"{len(events)} of {count} events arrived in {timeout} s"
        return events


def message(conversation_id: str, seq: int, *, holder: str | None = None) -> MessageCreated:
    sender = Sender(SenderType.CUSTOMER, None, "Dana")
    body = f"message {seq}"
    return MessageCreated(
        Message(str(uuid.uuid4()), conversation_id, seq, sender, body, T0), holder
    )


def new_id() -> str:
    return str(uuid.uuid4())


def listen_to(driver: BusDriver, events: Sequence[DomainEvent]) -> None:
    for channel in {c for event in events for c in channels_for(event)}:
        driver.listen(channel)


def settle(driver: BusDriver, recorder: Recorder) -> None:
    """Publish a marker and wait for it: whatever was published before has arrived by then.

    The marker goes through the same channels machinery, after everything else, and
    every bus delivers in publish order; so anything not arrived yet never will.
    """
    marker = message(new_id(), 1)
    listen_to(driver, [marker])
    driver.publish([marker])
    deadline = time.monotonic() + 5
    arrived = driver.delivered(marker)
    while arrived not in recorder.events:
        assert time.monotonic() < deadline, "the marker never arrived"
        time.sleep(0.002)


class BusContract:
    def test_events_published_in_order_arrive_in_order(self, driver: BusDriver) -> None:
        recorder = Recorder()
        driver.subscribe(recorder)
        conversation = new_id()
        events = [message(conversation, seq) for seq in range(1, 61)]
        listen_to(driver, events)
        driver.publish(events[:20])
        for event in events[20:]:
            driver.publish([event])
        assert recorder.wait_for(60) == delivered(driver, events)

    def test_every_subscriber_hears_every_event(self, driver: BusDriver) -> None:
        first, second = Recorder(), Recorder()
        driver.subscribe(first)
        driver.subscribe(second)
        events = [message(new_id(), 1), message(new_id(), 1)]
        listen_to(driver, events)
        driver.publish(events)
        assert first.wait_for(2) == delivered(driver, events)
        assert second.wait_for(2) == delivered(driver, events)

    def test_a_failing_subscriber_does_not_stop_the_others(
        self, driver: BusDriver, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(event: DomainEvent) -> None:
            raise RuntimeError("boom")

        recorder = Recorder()
        driver.subscribe(broken)
        driver.subscribe(recorder)
        events = [message(new_id(), 1), message(new_id(), 2)]
        listen_to(driver, events)
        with caplog.at_level(logging.ERROR):
            driver.publish(events)
            assert recorder.wait_for(2) == delivered(driver, events)
        failures = [r for r in caplog.records if "subscriber failed" in r.getMessage()]
        assert len(failures) == 2
        assert failures[0].exc_info is not None

    def test_unsubscribe_stops_delivery(self, driver: BusDriver) -> None:
        leaving, staying = Recorder(), Recorder()
        unsubscribe = driver.subscribe(leaving)
        driver.subscribe(staying)
        before, after = message(new_id(), 1), message(new_id(), 1)
        listen_to(driver, [before, after])
        driver.publish([before])
        staying.wait_for(1)
        unsubscribe()
        unsubscribe()  # twice is harmless
        driver.publish([after])
        settle(driver, staying)
        assert leaving.events == delivered(driver, [before])
        assert staying.events[:2] == delivered(driver, [before, after])

    def test_several_publishing_threads_each_keep_their_order(self, driver: BusDriver) -> None:
        recorder = Recorder()
        driver.subscribe(recorder)
        conversations = [new_id() for _ in range(8)]
        per_thread = {c: [message(c, seq) for seq in range(1, 26)] for c in conversations}
        listen_to(driver, [e for events in per_thread.values() for e in events])

        def publish_all(events: list[MessageCreated]) -> None:
            for event in events:
                driver.publish([event])

        threads = [threading.Thread(target=publish_all, args=(e,)) for e in per_thread.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        heard = recorder.wait_for(8 * 25)
        for events in per_thread.values():
            expected = delivered(driver, events)
            mine = [e for e in heard if e in expected]
            assert mine == expected


class ChannelContract:
    """For buses with channels: an instance hears only what it listens to."""

    def test_events_of_channels_not_listened_to_do_not_arrive(self, driver: BusDriver) -> None:
        recorder = Recorder()
        driver.subscribe(recorder)
        heard, unheard = message(new_id(), 1), message(new_id(), 1)
        listen_to(driver, [heard])
        driver.publish([unheard, heard])
        settle(driver, recorder)
        assert driver.delivered(unheard) not in recorder.events
        assert driver.delivered(heard) in recorder.events

    def test_a_forgotten_channel_stops(self, driver: BusDriver) -> None:
        recorder = Recorder()
        driver.subscribe(recorder)
        conversation = new_id()
        first, second = message(conversation, 1), message(conversation, 2)
        listen_to(driver, [first])
        driver.publish([first])
        recorder.wait_for(1)
        for channel in channels_for(first):
            driver.forget(channel)
        driver.publish([second])
        settle(driver, recorder)
        assert driver.delivered(second) not in recorder.events


def delivered(driver: BusDriver, events: Sequence[DomainEvent]) -> list[object]:
    return [driver.delivered(event) for event in events]
