"""With Redis, the listened-to channels follow the registry's sockets.

The registry tells its observer when an audience gains its first socket and
loses its last; a recording observer, naming channels as RemoteChannels does,
checks that every need is undone by exactly one drop when the last socket that
needed the channel goes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from adapters.realtime.connection import Connection, Subscription
from adapters.realtime.hub import Hub
from adapters.realtime.outbound import broadcast_for
from adapters.realtime.registry import Audience, Registry, Topic
from adapters.realtime.remote import RemoteChannels
from adapters.redis_bus import RedisListener
from chatcore.agents import AgentSummary
from chatcore.events import AgentAssigned
from chatcore.presence import PresenceStatus

NAMES = {
    Audience.CUSTOMERS: "conversation:",
    Audience.SUBSCRIBERS: "conversation:",
    Audience.AGENT: "agent:",
    Audience.AGENTS: "agents",
    Audience.HOLDER: "presence:",
}


class CountingWatchers:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def on_first_watcher(self, topic: Topic) -> None:
        self.counts[NAMES[topic.audience] + topic.key] += 1

    def on_last_watcher_gone(self, topic: Topic) -> None:
        channel = NAMES[topic.audience] + topic.key
        assert self.counts[channel] > 0, f"dropped {channel} more often than needed"
        self.counts[channel] -= 1

    def listened(self) -> set[str]:
        return {channel for channel, count in self.counts.items() if count > 0}


async def _send(message: Any) -> None:
    return None


def _connection(**who: Any) -> Connection:
    return Connection(_send, queue_frames=8, close_timeout=1.0, **who)


def _assigned(conversation_id: str, agent_id: str) -> AgentAssigned:
    return AgentAssigned(conversation_id, AgentSummary(agent_id, "Ada", PresenceStatus.ONLINE))


def test_channels_follow_the_sockets_that_need_them() -> None:
    remote = CountingWatchers()
    registry = Registry(remote)
    now = datetime.now(UTC)
    hub = Hub(registry, now=lambda: now)
    first, second = _connection(conversation_id="c1"), _connection(conversation_id="c1")
    registry.add_customer(first)
    registry.add_customer(second)
    assert remote.listened() == {"conversation:c1"}
    agent = _connection(agent_id="a1")
    registry.add_agent(agent)
    agent.subscriptions["c2"] = Subscription()  # as the session does
    registry.subscribe(agent, "c2")
    assert remote.listened() == {"conversation:c1", "conversation:c2", "agent:a1", "agents"}
    hub.route(broadcast_for(_assigned("c1", "a1"), now=now))
    assert "presence:a1" in remote.listened()
    hub.route(broadcast_for(_assigned("c1", "a2"), now=now))  # reassigned: presence follows
    assert "presence:a1" not in remote.listened()
    assert "presence:a2" in remote.listened()
    registry.remove(first)
    assert "conversation:c1" in remote.listened()
    registry.remove(second)
    registry.remove(second)  # twice is harmless
    registry.remove(agent)
    assert remote.listened() == set()


def test_each_audience_is_listened_to_on_its_channel() -> None:
    listener = RedisListener("redis://127.0.0.1:6379/0", namespace="ns")  # never connects
    remote = RemoteChannels(listener, namespace="ns")
    assert remote.channel_of(Topic(Audience.CUSTOMERS, "c")) == "ns:conversation:c"
    assert remote.channel_of(Topic(Audience.SUBSCRIBERS, "c")) == "ns:conversation:c"
    assert remote.channel_of(Topic(Audience.AGENT, "a")) == "ns:agent:a"
    assert remote.channel_of(Topic(Audience.AGENTS)) == "ns:agents"
    assert remote.channel_of(Topic(Audience.HOLDER, "a")) == "ns:presence:a"
