"""With Redis, the hub keeps the listener's channels in step with its sockets.

A fake RemoteChannels records what the hub needs and drops: every need is undone
by exactly one drop when the last socket that needed the channel goes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from adapters.realtime.connection import Connection, Subscription
from adapters.realtime.hub import Hub
from chatcore.agents import AgentSummary
from chatcore.events import AgentAssigned
from chatcore.presence import PresenceStatus


class FakeRemote:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def conversation(self, conversation_id: str) -> str:
        return f"conversation:{conversation_id}"

    def agent(self, agent_id: str) -> str:
        return f"agent:{agent_id}"

    def presence(self, agent_id: str) -> str:
        return f"presence:{agent_id}"

    def agents(self) -> str:
        return "agents"

    def need(self, channel: str) -> None:
        self.counts[channel] += 1

    def drop(self, channel: str) -> None:
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
    remote = FakeRemote()
    hub = Hub(now=lambda: datetime.now(UTC), remote=remote)  # type: ignore[arg-type]
    first, second = _connection(conversation_id="c1"), _connection(conversation_id="c1")
    hub.add_customer(first)
    hub.add_customer(second)
    assert remote.listened() == {"conversation:c1"}
    agent = _connection(agent_id="a1")
    hub.add_agent(agent)
    agent.subscriptions["c2"] = Subscription()  # as the session does
    hub.subscribe(agent, "c2")
    assert remote.listened() == {"conversation:c1", "conversation:c2", "agent:a1", "agents"}
    hub.deliver(_assigned("c1", "a1"))
    assert "presence:a1" in remote.listened()
    hub.deliver(_assigned("c1", "a2"))  # reassigned: the presence channel follows
    assert "presence:a1" not in remote.listened()
    assert "presence:a2" in remote.listened()
    hub.remove(first)
    assert "conversation:c1" in remote.listened()
    hub.remove(second)
    hub.remove(second)  # twice is harmless
    hub.remove(agent)
    assert remote.listened() == set()
