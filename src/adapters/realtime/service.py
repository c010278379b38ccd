"""The realtime adapter as one object: the registry and the hub, where broadcasts come
from (the in-process bus, or Redis), the timers, and what a socket's session may ask."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import Receive, Scope, Send

from adapters.realtime.connection import Connection
from adapters.realtime.frames import CLOSE_TRY_AGAIN
from adapters.realtime.hub import Hub
from adapters.realtime.liveness import InstanceLiveness
from adapters.realtime.outbound import (
    Broadcast,
    MessageFrames,
    UndecodableBroadcast,
    broadcast_for,
    from_bytes,
)
from adapters.realtime.registry import Registry
from adapters.realtime.remote import RemoteChannels
from adapters.realtime.session import SocketSession
from adapters.realtime.settings import RealtimeSettings
from adapters.realtime.typing_relay import TypingRelay
from adapters.realtime.typing_state import TypingTracker
from adapters.redis_bus import RedisListener
from adapters.threads import run
from chatcore.agents import Agent
from chatcore.events import DomainEvent
from chatcore.ports import StorageUnavailable
from chatcore.usecases import Context, presence

log = logging.getLogger("chatcore.realtime")

PATH = "/api/v1/realtime/ws"
SWEEP_SECONDS = 0.5  # how often typing and presence deadlines are looked at

Subscribe = Callable[[Callable[[DomainEvent], None]], Callable[[], None]]
# Makes the Redis listener, given what to call when its health changes.
ListenerFactory = Callable[[Callable[[bool], None]], RedisListener]


class Realtime:
    """The hub fed by the in-process bus (``subscribe``), or by Redis (``listener``).

    In one process each event is encoded to its frames once, on the thread that
    published it (outbound.broadcast_for), and routed on the loop. With Redis the
    publishing instance did that encoding, and every instance, this one included,
    routes what the listener hands over: the same order everywhere.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        settings: RealtimeSettings,
        subscribe: Subscribe | None = None,
        listener: ListenerFactory | None = None,
        namespace: str = "chatcore",
        instance_id: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        # Whose agent connections are counted here: one id per running server process.
        self.instance_id = instance_id or ctx.ids.new_id()
        self.liveness = InstanceLiveness(
            ctx,
            instance_id=self.instance_id,
            settings=settings.liveness,
            on_forgotten=self._resync_everyone,
        )
        assert (subscribe is None) != (listener is None), "one source of events"
        self.listener = listener(self._bus_health) if listener is not None else None
        self.remote = RemoteChannels(self.listener, namespace=namespace) if self.listener else None
        self.registry = Registry(self.remote)
        self.hub = Hub(self.registry, now=ctx.clock.now)
        self.typing = TypingTracker(timeout=float(settings.typing_timeout_seconds))
        self.typing_relay = TypingRelay(
            self.registry,
            self.typing,
            now=ctx.clock.now,
            publish=self.remote.typing if self.remote is not None else None,
        )
        self._subscribe = subscribe
        self._loop: asyncio.AbstractEventLoop | None = None
        # Agents whose socket closed while the database could not record it, in order.
        self._late_disconnects: list[str] = []

    def ready(self) -> bool:
        """For /readyz: without Redis always; with it, while its listener reads."""
        return self.listener is None or self.listener.healthy

    @property
    def routes(self) -> list[BaseRoute]:
        return [WebSocketRoute(PATH, _Endpoint(self))]

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the app's lifespan: listen to the bus, keep the timers, stop cleanly."""
        self._loop = asyncio.get_running_loop()
        listener = self.listener
        if self._subscribe is not None:
            unsubscribe = self._subscribe(self._from_any_thread)
        else:
            assert listener is not None
            # Already on the loop, in the order Redis delivered them.
            unsubscribe = listener.subscribe(self._from_redis)
            listener.on_typing(self.typing_relay.show)
            listener.on_missed(self._events_dropped)
            await listener.start()  # returns once the first connection worked or failed
        try:
            await self.liveness.start()
            timers = [
                asyncio.create_task(self._sweep(), name="chatcore-realtime-sweeper"),
                asyncio.create_task(self.liveness.keep_beating(), name="chatcore-heartbeat"),
            ]
            try:
                yield
            finally:
                for timer in timers:
                    timer.cancel()
                for timer in timers:
                    with contextlib.suppress(asyncio.CancelledError):
                        await timer
                await self.liveness.stop()
        finally:
            unsubscribe()
            if listener is not None:
                listener.on_typing(None)
                listener.on_missed(None)
                assert self.remote is not None
                await self.remote.close()
                await listener.stop()
            self._loop = None

    def _bus_health(self, healthy: bool) -> None:
        """The listener's connection came and went: after a gap, everyone resyncs."""
        if not healthy:
            return
        # Back (or there for the first time): events published meanwhile never reached
        # these sockets. Closed with 1013, their clients reconnect with the last seq
        # they saw and the snapshot fills the gap.
        self._resync_everyone("the Redis event bus is back")

    def _events_dropped(self) -> None:
        # A publisher Redis failed dropped events these sockets may have missed
        # (adapters/redis_bus/listener.py): the same remedy.
        self._resync_everyone("an instance dropped events while Redis failed it")

    def _resync_everyone(self, why: str = "this instance was given up for dead") -> None:
        dropped = self.registry.all_connections()
        if dropped:
            log.warning(
                "%s: closing %d socket(s) with %d so they reconnect and resync",
                why,
                len(dropped),
                CLOSE_TRY_AGAIN,
            )
        for connection in dropped:
            connection.close(CLOSE_TRY_AGAIN)

    def _from_any_thread(self, event: DomainEvent) -> None:
        # Use cases publish from worker threads, in commit order; call_soon_threadsafe
        # keeps that order on the loop, where the hub lives. Encoded here, off the loop.
        loop = self._loop
        if loop is None:
            return
        broadcast = broadcast_for(event, now=self.ctx.clock.now())
        with contextlib.suppress(RuntimeError):  # the loop closed under us: shutting down
            loop.call_soon_threadsafe(self._route, broadcast)

    def _from_redis(self, payload: bytes) -> None:
        try:
            broadcast = from_bytes(payload)
        except UndecodableBroadcast as error:
            log.error("skipped a broadcast from Redis this version cannot read: %s", error)
            return
        self._route(broadcast)

    def _route(self, broadcast: Broadcast) -> None:
        self.hub.route(broadcast)
        if isinstance(broadcast, MessageFrames) and broadcast.typist is not None:
            # Sending the message ends the sender's "typing…".
            self.typing.end((broadcast.conversation_id, broadcast.typist))

    # What a socket's session may ask (session.SessionHost)

    async def listening(self) -> bool:
        """Wait until the channels asked for so far are listened to (True in one process)."""
        return True if self.remote is None else await self.remote.settled()

    def relay_typing(
        self, connection: Connection, conversation_id: str, *, typist: Agent | None, is_typing: bool
    ) -> None:
        if typist is None:
            self.typing_relay.customer(connection, conversation_id, is_typing=is_typing)
        else:
            self.typing_relay.agent(connection, typist, conversation_id, is_typing=is_typing)

    def end_typing(self, connection: Connection) -> None:
        self.typing.end_connection(connection)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.typing.expire(now=loop.time())
            try:
                await run(presence.expire_presence, self.ctx)
            except Exception:
                log.exception("presence sweep failed; trying again shortly")
            await self._record_late_disconnects()

    def disconnect_later(self, agent_id: str) -> None:
        """An agent's socket closed and the storage could not count it off: the sweeper
        does, once it answers again (a stop forgets this instance's counts anyway)."""
        log.warning("could not record agent %s's disconnect yet; retrying", agent_id)
        self._late_disconnects.append(agent_id)

    async def _record_late_disconnects(self) -> None:
        while self._late_disconnects:
            agent_id = self._late_disconnects[0]
            try:
                await run(
                    presence.agent_disconnected, self.ctx, agent_id, instance_id=self.instance_id
                )
            except StorageUnavailable:
                return  # still unavailable: at the next sweep
            except Exception:
                log.exception("could not record an agent's disconnect")
            self._late_disconnects.pop(0)


class _Endpoint:
    """The route's ASGI app. Not a function: for a function Starlette adds a wrapper of
    its own, two more coroutines and a WebSocket held for the life of every socket, to
    catch exceptions its ExceptionMiddleware, further out, catches just the same."""

    __slots__ = ("_realtime",)

    def __init__(self, realtime: Realtime) -> None:
        self._realtime = realtime

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # The session's coroutine itself, for the route to await: no coroutine of ours
        # around it, held for as long as the socket is open.
        return SocketSession(self._realtime, scope, receive, send).run()
