"""Which Redis channels this instance listens to: those its own sockets need.

Only with a Redis bus (CHATCORE_REDIS_URL). The hub tells this object, as it
registers and forgets sockets, which channels it needs now (``need``) and which
it no longer needs (``drop``); each channel is counted here, on the loop, and the
listener is asked to subscribe on the first need and to unsubscribe on the last
drop. Those requests run as tasks in the order they were made, so the listener
never sees a forget before the listen it undoes.

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

    # Counting

    def need(self, channel: str) -> None:
        count = self._counts.get(channel, 0)
        self._counts[channel] = count + 1
        if count == 0:
            task = self._spawn(self.listener.listen(channel))
            self._pending[channel] = task
            task.add_done_callback(lambda done: self._settle(channel, done))

    def drop(self, channel: str) -> None:
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

    def typing(self, notice: TypingNotice, channels: tuple[str, ...]) -> None:
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
