"""The Redis event bus: the shared bus contract against the local Redis, its codec and
routing, and what happens when Redis goes away and comes back.

Redis must be running at CHATCORE_TEST_REDIS (default redis://127.0.0.1:6379/0):
no server is a failure, not a skip. The restart tests launch their own
``redis-server`` on a free port, so stopping it disturbs nothing else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from adapters.realtime.outbound import (
    ConversationFrames,
    UndecodableBroadcast,
    broadcast_for,
    event_to_bytes,
    from_bytes,
    to_bytes,
)
from adapters.redis_bus import RedisEventBus, channels_for
from adapters.redis_bus.codec import (
    ResyncNotice,
    TypingNotice,
    UndecodableEvent,
    decode,
    encode,
)
from adapters.redis_bus.dispatch import Dispatcher
from chatcore.agents import AgentSummary
from chatcore.conversation import Conversation, ConversationView, Customer, Status, readable_by
from chatcore.events import (
    AgentAccessRevoked,
    AgentAssigned,
    AgentPresenceChanged,
    ChatClosed,
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
)
from chatcore.messages import Message, Sender, SenderType
from chatcore.presence import PresenceStatus
from entrypoints.bootstrap import build_context
from entrypoints.settings import Settings
from support.contracts.bus import BusContract, ChannelContract, Recorder, message, new_id, settle
from support.redis_server import (
    REDIS_URL,
    T0,
    OwnRedis,
    RedisDriver,
    payload_of,
    require_redis,
    wait_until,
)

T = TypeVar("T")


@pytest.fixture
def redis_driver() -> Iterator[RedisDriver]:
    require_redis(REDIS_URL)
    driver = RedisDriver(REDIS_URL)
    yield driver
    driver.close()


class TestRedisBusContract(BusContract, ChannelContract):
    @pytest.fixture
    def driver(self, redis_driver: RedisDriver) -> RedisDriver:
        return redis_driver


# The codec: every event survives the trip


_ids = st.uuids().map(str)
_texts = st.text(max_size=12)
_times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(3000, 1, 1), timezones=st.just(UTC)
)
_summaries = st.builds(AgentSummary, _ids, _texts, st.sampled_from(PresenceStatus))
_messages = st.builds(
    Message,
    id=_ids,
    conversation_id=_ids,
    seq=st.integers(0, 2**63 - 1),
    sender=st.builds(Sender, st.sampled_from(SenderType), st.none() | _ids, _texts),
    body=_texts,
    created_at=_times,
    faq_slug=st.none() | _texts,
    client_message_id=st.none() | _texts,
    reply_to=st.none() | _ids,
)
_conversations = st.builds(
    Conversation,
    id=_ids,
    session_id=_ids,
    customer=st.builds(Customer, _texts, st.none() | _texts),
    created_at=_times,
    updated_at=_times,
    status=st.sampled_from(Status),
    assigned_agent_id=st.none() | _ids,
    escalated_at=st.none() | _times,
    closed_at=st.none() | _times,
    closed_by_id=st.none() | _ids,
    last_seq=st.integers(0, 2**63 - 1),
)
_views = st.builds(ConversationView, _conversations, st.none() | _summaries, st.none() | _messages)
EVENTS: st.SearchStrategy[DomainEvent] = st.one_of(
    st.builds(MessageCreated, _messages, st.none() | _ids),
    st.builds(ConversationUpdated, _views, st.booleans(), st.none() | _ids),
    st.builds(AgentAssigned, _ids, _summaries),
    st.builds(ChatClosed, _ids, _summaries, _times, st.none() | _ids),
    st.builds(AgentPresenceChanged, _ids, _texts, st.sampled_from(PresenceStatus)),
    st.builds(
        AgentAccessRevoked,
        _ids,
        st.none() | st.tuples(_ids) | st.tuples(_ids, _ids),
        st.none() | _ids,
    ),
)


@given(event=EVENTS)
def test_every_event_becomes_frames_that_survive_the_trip(event: DomainEvent) -> None:
    broadcast = broadcast_for(event, now=T0)
    assert from_bytes(to_bytes(broadcast)) == broadcast
    # The frames are the contract's envelopes, encoded once where it was published.
    frames = ("text", "for_customers", "for_agents", "for_outsiders", "last_words")
    texts = [text for name in frames if (text := getattr(broadcast, name, None)) is not None]
    assert texts
    for text in texts:
        frame = msgspec.json.decode(text)
        assert set(frame) == {"type", "conversation_id", "data", "sent_at"}
        assert frame["sent_at"] == "2026-11-25T21:49:26.123Z"


@given(
    event=st.builds(ConversationUpdated, _views, st.booleans(), st.none() | _ids),
    stranger=_ids,
)
def test_agents_who_may_not_read_a_conversation_get_it_without_email_or_last_message(
    event: ConversationUpdated, stranger: str
) -> None:
    broadcast = from_bytes(event_to_bytes(event, now=T0))  # as another instance gets it
    assert isinstance(broadcast, ConversationFrames)
    conversation = event.view.conversation
    # A third text only when agents who may not read it hear it: every agent, not all readers.
    some_may_not = not readable_by(conversation, "", is_admin=False)
    assert (broadcast.for_outsiders is not None) == (broadcast.every_agent and some_may_not)
    assert broadcast.for_agent(stranger, is_admin=True) == broadcast.for_agents
    named = (conversation.assigned_agent_id, conversation.closed_by_id)
    for agent_id in {stranger, *(agent for agent in named if agent is not None)}:
        text = broadcast.for_agent(agent_id, is_admin=False)
        if readable_by(conversation, agent_id, is_admin=False):
            assert text == broadcast.for_agents
        elif broadcast.every_agent:
            data = msgspec.json.decode(text)["data"]
            assert data["customer"] == {
                "display_name": conversation.customer.display_name,
                "email": None,
            }
            assert "last_message" not in data


_items = st.one_of(
    st.binary(max_size=64),
    st.builds(TypingNotice, _ids, _texts, _texts, st.booleans(), st.none() | _ids),
    st.builds(ResyncNotice, st.integers(0, 10**6), st.floats(0, 1e6)),
)


@given(item=_items, event_id=_ids, origin=_ids)
def test_every_item_survives_the_envelope(
    item: bytes | TypingNotice | ResyncNotice, event_id: str, origin: str
) -> None:
    received = decode(encode(item, event_id=event_id, origin=origin))
    assert received.item == item
    assert type(received.item) is type(item)
    assert (received.event_id, received.origin) == (event_id, origin)


def test_bytes_that_are_not_an_event_are_refused() -> None:
    with pytest.raises(UndecodableEvent):
        decode(b"not msgpack at all")
    good = encode(b"payload", event_id="1", origin="o")
    with pytest.raises(UndecodableEvent, match="unknown kind"):
        decode(good.replace(b"event", b"EVENT"))
    with pytest.raises(UndecodableBroadcast):
        from_bytes(b"payload")


# Routing: the contract's "who receives what", by channel

C, H, P = "conv", "holder", "presence-agent"


def _view(status: Status, holder: str | None) -> ConversationView:
    conversation = Conversation(C, "s", Customer("Dana"), T0, T0, status, holder)
    return ConversationView(conversation, None)


ALICE = AgentSummary(H, "Alice", PresenceStatus.ONLINE)
# Who listens to what: a customer of C (and, while H holds C, to H's presence),
# an agent subscribed to C, the holder H's own sockets, every agent socket, the
# customers of the chats P holds.
LISTENS = {
    "customer": {"chatcore:conversation:conv", "chatcore:presence:holder"},
    "subscriber": {"chatcore:conversation:conv"},
    "holder": {"chatcore:agent:holder"},
    "every agent": {"chatcore:agents"},
    "P's customers": {"chatcore:presence:presence-agent"},
    "P's sockets": {"chatcore:agent:presence-agent"},
}
# (event, its channels, who the contract says hears it)
TABLE: list[tuple[DomainEvent, tuple[str, ...], set[str]]] = [
    (
        message(C, 1, holder=H),
        ("chatcore:conversation:conv", "chatcore:agent:holder"),
        {"customer", "subscriber", "holder"},
    ),
    (message(C, 1), ("chatcore:conversation:conv",), {"customer", "subscriber"}),
    (
        ConversationUpdated(_view(Status.AUTOMATED, None), status_changed=False),
        ("chatcore:conversation:conv", "chatcore:agents"),
        {"customer", "every agent"},
    ),
    (
        ConversationUpdated(_view(Status.AGENT, H), status_changed=True),
        ("chatcore:conversation:conv", "chatcore:agents"),
        {"customer", "every agent"},
    ),
    (
        ConversationUpdated(_view(Status.AGENT, H), status_changed=False),
        ("chatcore:conversation:conv", "chatcore:agent:holder"),
        {"customer", "holder"},
    ),
    (
        ConversationUpdated(_view(Status.CLOSED, H), status_changed=False),
        ("chatcore:conversation:conv",),
        {"customer"},
    ),
    (
        AgentAssigned(C, ALICE),
        ("chatcore:conversation:conv", "chatcore:agents"),
        {"customer", "every agent"},
    ),
    (
        ChatClosed(C, ALICE, T0, H),
        ("chatcore:conversation:conv", "chatcore:agent:holder"),
        {"customer", "subscriber", "holder"},
    ),
    (
        AgentPresenceChanged(P, "Pat", PresenceStatus.AWAY),
        ("chatcore:agents", "chatcore:presence:presence-agent"),
        {"every agent", "P's customers"},
    ),
    (AgentAccessRevoked(P), ("chatcore:agent:presence-agent",), {"P's sockets"}),
]


@pytest.mark.parametrize(("event", "channels", "readers"), TABLE)
def test_each_event_goes_where_the_contract_sends_it(
    event: DomainEvent, channels: tuple[str, ...], readers: set[str]
) -> None:
    assert channels_for(event) == channels
    reached = {who for who, listens in LISTENS.items() if listens & set(channels)}
    # Everyone the contract names is reached; a channel reaches no one who never hears
    # such an event (a subscriber may share a channel with a customer: the hub filters).
    assert readers <= reached
    assert all(any(c in LISTENS[who] for who in readers) for c in channels)


def test_channels_take_the_namespace() -> None:
    assert channels_for(AgentAccessRevoked("a"), namespace="shop2") == ("shop2:agent:a",)


def test_the_duplicate_window_is_bounded() -> None:
    recorder = Recorder()
    dispatcher = Dispatcher(window=2)
    dispatcher.subscribe(recorder)
    datas = [encode(b"payload", event_id=str(i), origin="o") for i in range(3)]
    for data in [datas[0], datas[0], datas[1], datas[2], datas[0]]:
        dispatcher.deliver(data)
    # 0 was forgotten once 1 and 2 came: the window holds two ids, no more.
    assert len(recorder.events) == 4


def test_own_events_can_be_ignored() -> None:
    recorder = Recorder()
    dispatcher = Dispatcher(ignore_origin="me")
    dispatcher.subscribe(recorder)
    dispatcher.deliver(encode(b"payload", event_id="1", origin="me"))
    dispatcher.deliver(encode(b"payload", event_id="2", origin="other"))
    assert len(recorder.events) == 1


def test_an_event_on_two_listened_channels_arrives_once(redis_driver: RedisDriver) -> None:
    recorder = Recorder()
    redis_driver.subscribe(recorder)
    event = message(new_id(), 1, holder=new_id())
    for channel in channels_for(event):
        redis_driver.listen(channel)
    second = message(event.message.conversation_id, 2)
    redis_driver.publish([event, second])
    heard = redis_driver.delivered
    assert recorder.wait_for(2)[:2] == [heard(event), heard(second)]
    settle(redis_driver, recorder)
    assert recorder.events.count(heard(event)) == 1


# Losing Redis, and getting it back


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


def test_the_listener_survives_a_redis_restart(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    health: list[bool] = []
    driver = RedisDriver(own_redis.url, max_backoff=0.5, on_health=health.append)
    try:
        recorder = Recorder()
        driver.subscribe(recorder)
        conversation = new_id()
        before, lost, after = (message(conversation, seq) for seq in (1, 2, 3))
        channel = channels_for(before, namespace=driver.namespace)[0]
        assert driver.loop.run(driver.listener.listen(channel))
        driver.publish([before])
        recorder.wait_for(1)
        assert driver.listener.healthy

        with caplog.at_level(logging.WARNING):
            own_redis.stop()
            wait_until(lambda: not driver.listener.healthy)
            started = time.monotonic()
            driver.publish([lost])
            assert time.monotonic() - started < 0.5
            assert driver.bus.dropped == 1

            own_redis.start()
            wait_until(lambda: driver.listener.healthy)
            assert own_redis.subscribers(channel) == 1  # re-subscribed by itself
            time.sleep(0.25)  # the publisher's pause after a failure
            driver.publish([after])
            assert recorder.wait_for(2) == [driver.delivered(before), driver.delivered(after)]

        assert health == [True, False, True]
        logged = " ".join(r.getMessage() for r in caplog.records)
        assert "LOST its connection" in logged
        assert "DROPPED 1 committed event(s)" in logged
        assert "back on" in logged
        assert "publishing again after dropping 1" in logged
    finally:
        driver.close()


def test_the_listener_starts_without_redis_and_connects_when_it_comes(
    own_redis: OwnRedis,
) -> None:
    own_redis.stop()
    driver = RedisDriver(own_redis.url, max_backoff=0.3)
    try:
        assert not driver.listener.healthy
        channel = f"{driver.namespace}:conversation:{new_id()}"
        assert not driver.loop.run(driver.listener.listen(channel))  # kept for later
        own_redis.start()
        wait_until(lambda: driver.listener.healthy)
        assert own_redis.subscribers(channel) == 1
    finally:
        driver.close()


def test_publishing_without_redis_is_quick_and_counted(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    own_redis.stop()
    clock = [100.0]
    bus = RedisEventBus(
        own_redis.url, encode=payload_of, pause_after_failure=1.0, clock=lambda: clock[0]
    )
    events = [message(new_id(), 1), message(new_id(), 1)]
    with caplog.at_level(logging.ERROR):
        started = time.monotonic()
        bus.publish(events)
        bus.publish(events[:1])  # within the pause: not even tried
        assert time.monotonic() - started < 0.5
    assert bus.dropped == 3
    assert len(caplog.records) == 1
    assert "DROPPED 2 committed event(s)" in caplog.records[0].getMessage()
    own_redis.start()
    clock[0] += 1.0
    bus.publish(events[:1])
    assert (bus.published, bus.dropped) == (1, 3)
    bus.close()


def test_listening_is_counted(redis_driver: RedisDriver) -> None:
    listener, run = redis_driver.listener, redis_driver.loop.run
    channel = f"{redis_driver.namespace}:conversation:{new_id()}"
    client = redis.Redis.from_url(REDIS_URL)

    def subscribers() -> int:
        counts: list[tuple[bytes | str, int]] = client.pubsub_numsub(channel)
        return counts[0][1]

    assert run(listener.listen(channel))
    assert run(listener.listen(channel))
    run(listener.forget(channel))
    assert subscribers() == 1  # one reader still needs it
    run(listener.forget(channel))
    run(listener.forget(channel))  # once too often: harmless
    wait_until(lambda: subscribers() == 0)
    assert channel not in listener.channels


def test_with_redis_events_take_one_path(tmp_path: Path) -> None:
    """No in-process bus beside Redis: every instance, this one too, hears Redis alone."""
    require_redis(REDIS_URL)
    core = build_context(Settings(database=str(tmp_path / "one-path.db"), redis_url=REDIS_URL))
    try:
        assert core.bus is None
        assert core.ctx.publisher is core.redis
    finally:
        core.close()
    alone = build_context(Settings(database=str(tmp_path / "alone.db")))
    try:
        assert alone.redis is None
        assert alone.ctx.publisher is alone.bus
    finally:
        alone.close()
