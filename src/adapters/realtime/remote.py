"""Which Redis channels this instance listens to: those its own sockets need.

Only with a Redis bus (CHATCORE_REDIS_URL). It observes the registry
(adapters/realtime/registry.py): each audience that gains its first socket here
names a channel to listen to, and each that loses its last one a channel to let
go. Two audiences can share a channel (a conversation's customers and its
subscribers), so each channel is counted here, on the loop, and the listener is
asked to subscribe on the first need and to unsubscribe on the last drop. Those
requests run as tasks in the order they were made, so the listener never sees a
forget before the listen it undoes.

``settled`` waits until every subscription asked for so far is confirmed by
Redis: a session awaits it after registering and before reading a snapshot, so
whatever commits after the snapshot was read is published to a channel already
listened to (the same register-then-snapshot rule as in one process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from adapters.realtime.registry import Audience, Topic
from adapters.realtime.typing_state import CUSTOMER
from adapters.redis_bus import RedisListener
from adapters.redis_bus.channels import (
    agent_channel,
    agents_channel,
    conversation_channel,
    presence_channel,
)
from adapters.redis_bus.codec import TypingNotice

log = logging.getLogger("chatcore.realtime")
T = TypeVar("T")


class RemoteChannels:
    def __init__(self, listener: RedisListener, *, namespace: str) -> None:
        self.listener = listener
        self.namespace = namespace
        self._counts: dict[str, int] = {}
        self._pending: dict[str, asyncio.Task[bool]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # Names

    def conversation(self, conversation_id: str) -> str:
        return conversation_channel(conversation_id, namespace=self.namespace)

    def agent(self, agent_id: str) -> str:
        return agent_channel(agent_id, namespace=self.namespace)

    def presence(self, agent_id: str) -> str:
        return presence_channel(agent_id, namespace=self.namespace)

    def agents(self) -> str:
        return agents_channel(namespace=self.namespace)

    def channel_of(self, topic: Topic) -> str:
        match topic.audience:
            case Audience.CUSTOMERS | Audience.SUBSCRIBERS:
                return self.conversation(topic.key)
            case Audience.AGENT:
                return self.agent(topic.key)
            case Audience.AGENTS:
                return self.agents()
            case Audience.HOLDER:
                return self.presence(topic.key)

    # Counting, as the registry's observer

    def on_first_watcher(self, topic: Topic) -> None:
        self._need(self.channel_of(topic))

    def on_last_watcher_gone(self, topic: Topic) -> None:
        self._drop(self.channel_of(topic))

    def _need(self, channel: str) -> None:
        count = self._counts.get(channel, 0)
        self._counts[channel] = count + 1
        if count == 0:
            task = self._spawn(self.listener.listen(channel))
            self._pending[channel] = task
            task.add_done_callback(lambda done: self._settle(channel, done))

    def _drop(self, channel: str) -> None:
        count = self._counts.get(channel, 0)
        if count > 1:
            self._counts[channel] = count - 1
        elif count == 1:
            del self._counts[channel]
            self._spawn(self.listener.forget(channel))

    async def settled(self) -> bool:
        """Every subscription asked for so far is confirmed (False: Redis is down)."""
        pending = list(self._pending.values())
        if not pending:
            return self.listener.healthy
        results = await asyncio.gather(*(asyncio.shield(task) for task in pending))
        return all(results)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._counts)

    # Typing

    def typing(self, notice: TypingNotice) -> None:
        """To the conversation's channel; the customer's typing to its holder's too, which
        hears it without subscribing, maybe on an instance that does not listen to the
        conversation and does not know it holds it (hence its id in the notice)."""
        channels: tuple[str, ...] = (self.conversation(notice.conversation_id),)
        if notice.typist == CUSTOMER and notice.holder is not None:
            channels = (*channels, self.agent(notice.holder))
        self._spawn(self.listener.publish_typing(notice, channels))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _settle(self, channel: str, done: asyncio.Task[bool]) -> None:
        if self._pending.get(channel) is done:
            del self._pending[channel]

    def _spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
