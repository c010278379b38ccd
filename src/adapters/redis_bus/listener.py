"""RedisListener: the receiving side of the Redis bus, on the event loop.

One Pub/Sub connection per instance. Channels are listened to on demand and
counted (``listen``/``forget``: the same conversation may be open on many
sockets); each event's payload goes to the subscribers on the loop, as the bytes
its publisher encoded, in the order Redis delivered it, once even when it came
on several channels.

Nothing here queues: the reader task calls the subscribers as it reads, so the
only buffers are redis-py's reader and the socket, and Redis bounds those itself
(``client-output-buffer-limit pubsub``: a listener that falls that far behind is
disconnected, which is handled as any other loss).

When the connection drops (a Redis restart, a network cut) the listener logs at
ERROR, reports ``healthy = False`` (for /readyz), reconnects with exponential
backoff capped at a few seconds and re-subscribes every channel it was listening
to. What was published meanwhile is lost to this instance: its clients catch up
by ``seq`` when they resync, which is what ``on_health`` is for.

Events can also be lost while this listener is connected: a publisher Redis
failed drops them (bus.py), for instance in the second after Redis came back,
before its pause ends, when this listener may already be back and its sockets
resynced. That publisher then sends a ResyncNotice, and ``on_missed`` tells the
realtime adapter to resync its sockets again, unless they all connected after the
last drop (every socket was closed at the last resync, later than that drop).
Notices coming close together are handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from adapters.redis_bus.channels import NAMESPACE, resync_channel
from adapters.redis_bus.codec import ResyncNotice, TypingNotice, encode, new_event_id
from adapters.redis_bus.dispatch import Dispatcher, Subscriber, TypingSubscriber

logger = logging.getLogger(__name__)

# A lost connection, as redis-py reports it. RuntimeError too: under uvloop, writing
# to a connection Redis has just closed raises "unable to perform operation on
# <TCPTransport closed=True>". Uncaught, it crashed a socket's handshake (a SUBSCRIBE
# during a Redis restart, tests/faults/test_redis_outage.py) and could end the reader.
_LOST = (RedisError, OSError, RuntimeError)


class RedisListener:
    def __init__(
        self,
        url: str,
        *,
        instance_id: str | None = None,
        namespace: str = NAMESPACE,
        ignore_origin: str | None = None,
        dedup_window: int = 4096,
        first_backoff: float = 0.1,
        max_backoff: float = 5.0,
        confirm_timeout: float = 2.0,
        resync_after: float = 0.5,
        on_health: Callable[[bool], None] | None = None,
    ) -> None:
        self.url = url
        self.instance_id = instance_id or uuid.uuid4().hex
        # Always subscribed: the connection exists even while no socket needs a
        # channel, so health is known, and it leaves room for messages to one instance.
        self.own_channel = f"{namespace}:instance:{self.instance_id}"
        self.resync_channel = resync_channel(namespace=namespace)  # always, too
        self._dispatcher = Dispatcher(window=dedup_window, ignore_origin=ignore_origin)
        self._dispatcher.on_resync(self._on_notice)
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._confirm_timeout = confirm_timeout
        self._on_health = on_health
        # Resync notices: how long to gather them before acting, whom to tell, and when
        # the sockets were last all told to resync (on the loop's clock).
        self._resync_after = resync_after
        self._on_missed: Callable[[], None] | None = None
        self._resynced_at = float("-inf")
        self._resync_due: asyncio.TimerHandle | None = None
        self._client = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_keepalive=True,
            health_check_interval=10,  # an idle Pub/Sub connection still PINGs
            retry=Retry(NoBackoff(), 0),  # losses are handled below, once, loudly
        )
        self._counts: dict[str, int] = {}
        self._pubsub: PubSub | None = None
        self._send_lock = asyncio.Lock()
        self._publish_lock = asyncio.Lock()  # FIFO: notices leave in the order given
        self._waiting: dict[tuple[str, str], list[asyncio.Future[bool]]] = {}
        self._healthy = False
        self._tried = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        """True while subscribed and reading; /readyz should answer 503 otherwise."""
        return self._healthy

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._counts)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Called on the loop with each event's payload; returns the unsubscribe function."""
        return self._dispatcher.subscribe(callback)

    def on_typing(self, callback: TypingSubscriber | None) -> None:
        """Typing notices (not domain events) go to ``callback``, on the loop."""
        self._dispatcher.on_typing(callback)

    def on_missed(self, callback: Callable[[], None] | None) -> None:
        """Called on the loop when events were dropped that open sockets may have missed
        (see the module's docstring); the callback has every socket resync."""
        self._on_missed = callback

    async def publish_typing(self, notice: TypingNotice, channels: tuple[str, ...]) -> bool:
        """Send a typing notice to ``channels`` from the loop; False if Redis is down.

        Typing is best effort, as in one process: a lost notice is corrected by the
        next one, or by the typist's instance taking it back on its timeout.
        """
        data = encode(notice, event_id=new_event_id(), origin=self.instance_id)
        async with self._publish_lock:
            try:
                async with (
                    asyncio.timeout(self._confirm_timeout),
                    self._client.pipeline(transaction=False) as pipeline,
                ):
                    for channel in channels:
                        pipeline.publish(channel, data)
                    await pipeline.execute()
            except (*_LOST, TimeoutError) as error:
                logger.warning("Redis event listener could not send a typing notice: %s", error)
                return False
        return True

    async def start(self) -> None:
        """Start reading; returns once the first connection succeeded or failed."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redis-listener")
        await self._tried.wait()

    async def stop(self) -> None:
        if self._resync_due is not None:
            self._resync_due.cancel()
            self._resync_due = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._client.aclose()

    async def listen(self, channel: str) -> bool:
        """Count one more reader of ``channel``; True once Redis confirmed it.

        False when Redis is down: the channel is kept and subscribed on reconnection.
        """
        self._counts[channel] = self._counts.get(channel, 0) + 1
        if self._counts[channel] > 1:
            return self._healthy
        return await self._send("subscribe", channel)

    async def forget(self, channel: str) -> None:
        """One reader fewer; the last one unsubscribes. Forgetting too often is harmless."""
        count = self._counts.get(channel, 0)
        if count > 1:
            self._counts[channel] = count - 1
        elif count == 1:
            del self._counts[channel]
            await self._send("unsubscribe", channel)

    async def _send(self, kind: str, channel: str) -> bool:
        async with self._send_lock:
            pubsub = self._pubsub
            if pubsub is None or (kind == "subscribe") != (channel in self._counts):
                return False  # down, or a later listen/forget changed its mind first
            confirmed = asyncio.get_running_loop().create_future()
            self._waiting.setdefault((kind, channel), []).append(confirmed)
            try:
                await (pubsub.subscribe if kind == "subscribe" else pubsub.unsubscribe)(channel)
            except _LOST:
                return False  # the reader sees the loss too, and reconnects
        try:
            return await asyncio.wait_for(asyncio.shield(confirmed), self._confirm_timeout)
        except TimeoutError:
            return False

    async def _run(self) -> None:
        delay = self._first_backoff
        loop = asyncio.get_running_loop()
        down_since: float | None = None
        while True:
            pubsub = self._client.pubsub()
            try:
                async with self._send_lock:
                    # Own channel last: its confirmation means all others are in.
                    channels = (*self._counts, self.resync_channel, self.own_channel)
                    await pubsub.subscribe(*channels)
                    self._pubsub = pubsub
                await self._read(pubsub, down_since=down_since)
            except _LOST as error:
                if self._healthy:
                    logger.error(
                        "Redis event listener LOST its connection to %s (%s): events from "
                        "other instances stop until it is back; reconnecting",
                        self.url,
                        error,
                    )
                else:
                    logger.error(
                        "Redis event listener cannot reach %s (%s); retrying in %.1f s",
                        self.url,
                        error,
                        delay,
                    )
            finally:
                was_healthy = self._healthy
                self._pubsub = None
                self._set_health(False)
                self._fail_waiting()
                with contextlib.suppress(*_LOST):
                    await pubsub.aclose()
            self._tried.set()
            if was_healthy:
                # Reconnect at once (a restart is often quick), then back off.
                down_since, delay = loop.time(), self._first_backoff
            else:
                down_since = down_since or loop.time()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)

    async def _read(self, pubsub: PubSub, *, down_since: float | None) -> None:
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            kind, channel = message["type"], _text(message.get("channel"))
            if kind == "message":
                self._dispatcher.deliver(message["data"])
            elif kind in ("subscribe", "unsubscribe"):
                for future in self._waiting.pop((kind, channel), []):
                    if not future.done():
                        future.set_result(True)
                if kind == "subscribe" and channel == self.own_channel:
                    self._tried.set()
                    if down_since is not None:
                        logger.warning(
                            "Redis event listener back on %s after %.1f s; re-subscribed "
                            "%d channel(s). Events published meanwhile were missed.",
                            self.url,
                            asyncio.get_running_loop().time() - down_since,
                            len(self._counts),
                        )
                    self._set_health(True)

    def _set_health(self, healthy: bool) -> None:
        if healthy != self._healthy:
            self._healthy = healthy
            if healthy:
                # The owner resyncs every socket now (events were missed while down).
                self._resynced_at = asyncio.get_running_loop().time()
            if self._on_health is not None:
                self._on_health(healthy)

    def _on_notice(self, notice: ResyncNotice) -> None:
        loop = asyncio.get_running_loop()
        dropped_at = loop.time() - notice.dropped_ago  # if anything, later than it was
        if dropped_at < self._resynced_at or self._resync_due is not None:
            return  # every socket open now connected after that drop, or soon will
        logger.warning(
            "Redis event listener: an instance (this one or another) dropped %d event(s) "
            "%.1f s ago; having every socket resync",
            notice.dropped,
            notice.dropped_ago,
        )
        self._resync_due = loop.call_later(self._resync_after, self._resync_missed)

    def _resync_missed(self) -> None:
        self._resync_due = None
        self._resynced_at = asyncio.get_running_loop().time()
        if self._on_missed is not None:
            self._on_missed()

    def _fail_waiting(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for futures in waiting.values():
            for future in futures:
                if not future.done():
                    future.set_result(False)


def _text(channel: bytes | str | None) -> str:
    return channel.decode() if isinstance(channel, bytes) else str(channel)
