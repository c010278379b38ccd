"""One socket from handshake to close: greet, snapshot, then frames both ways."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable
from typing import TypeVar

from starlette.types import Receive, Scope, Send

from adapters.ratelimit import gcra
from adapters.realtime.connection import Connection, Subscription
from adapters.realtime.frames import (
    CLOSE_RATE_LIMITED,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    BadFrame,
    Connected,
    ConversationRef,
    ErrorData,
    Ping,
    Pong,
    Subscribe,
    Subscribed,
    Typing,
    Unsubscribe,
    decode_client_frame,
    encode,
)
from adapters.realtime.handshake import (
    Greeting,
    Refused,
    bad_request,
    check_customer,
    check_origin,
    read_greeting,
    refusal_for,
)
from adapters.realtime.host import Registration, SessionHost
from adapters.threads import run
from adapters.wire import conversation_listing_out, conversation_out, message_out
from chatcore.errors import DomainError
from chatcore.ports import StorageUnavailable
from chatcore.usecases import Actor, accounts, customer, inbox, presence
from chatcore.usecases.customer import Resync

log = logging.getLogger("chatcore.realtime")
T = TypeVar("T")


class SocketSession:
    """One socket, run by its ASGI task, which is also its only task.

    The task reads; frames go out from wherever they are sent (see Connection).
    It speaks raw ASGI, not through Starlette's WebSocket: that object, and a
    coroutine around every frame, would be held or paid for every socket.
    """

    __slots__ = (
        "_frames_due",
        "_frames_refused",
        "_receive",
        "_scope",
        "_send",
        "actor",
        "ctx",
        "host",
        "registry",
    )

    def __init__(self, host: SessionHost, scope: Scope, receive: Receive, send: Send) -> None:
        self.host = host
        self.ctx = host.ctx
        self.registry: Registration = host.registry
        self._scope = scope
        self._receive = receive
        self._send = send
        self.actor: Actor | None = None
        # The inbound frame limit's state: two numbers per socket, no dict, no task.
        self._frames_due: float | None = None
        self._frames_refused = 0

    async def run(self) -> None:
        await self._receive()  # websocket.connect, always the first message
        await self._send({"type": "websocket.accept"})
        try:
            connection = await self._handshake()
        except Refused as refused:
            await self._refuse(refused)
            return
        connection.open()
        expiry = self._close_when_the_token_dies(connection)
        task = asyncio.current_task()
        assert task is not None
        try:
            # The read loop is here, not in a method of its own: a coroutine less held
            # by every idle socket, which spends its whole life waiting on this receive.
            while not connection.ended:
                connection.reader = task  # only while it waits here may end() cancel it
                try:
                    message = await self._receive()
                except asyncio.CancelledError:
                    if not connection.cancelled_by_end(task):
                        raise
                    break
                finally:
                    connection.reader = None
                if message["type"] != "websocket.receive":
                    break  # a disconnect: the peer's close, or ours
                await self._on_frame(connection, message.get("text"))
                del message  # no old frame kept alive while the socket idles
        finally:
            if expiry is not None:
                expiry.cancel()
            await self._leave(connection)

    # Handshake

    async def _handshake(self) -> Connection:
        greeting = read_greeting(self._scope)
        settings = self.host.settings
        if greeting.role == "agent":
            self.actor = await self._authenticate(greeting.access_token)
        connection = Connection(
            self._send,
            queue_frames=settings.queue_frames,
            close_timeout=float(settings.heartbeat_seconds) * 2,
            agent_id=self.actor.agent_id if self.actor else None,
            token_id=self.actor.token_id if self.actor else None,
            is_admin=self.actor.is_admin if self.actor else False,
        )
        connected = Connected(greeting.role, connection.agent_id, settings.heartbeat_seconds)
        connection.send(self._frame("system.connected", connected))
        try:
            if self.actor is None:
                await self._join_as_customer(connection, greeting)
            else:
                await self._join_as_agent(connection, greeting)
        except BaseException:
            self.registry.remove(connection)
            connection.finish()
            raise
        return connection

    async def _authenticate(self, token: str | None) -> Actor:
        return await self._refusing(run(accounts.authenticate, self.ctx, token))

    async def _join_as_customer(self, connection: Connection, greeting: Greeting) -> None:
        conversation_id, session_id = check_customer(greeting)
        connection.conversation_id = conversation_id
        connection.subscriptions[conversation_id] = Subscription()
        self.registry.add_customer(connection)
        await self.host.listening()  # with Redis: its channel is listened to before the read
        resync = await self._refusing(
            run(
                customer.customer_resync,
                self.ctx,
                conversation_id,
                session_id=session_id,
                after_seq=greeting.after_seq,
            )
        )
        self.registry.learn_holder(conversation_id, resync.view.conversation)
        await self.host.listening()  # and its holder's presence
        self._send_snapshot(connection, resync, after_seq=greeting.after_seq)

    async def _join_as_agent(self, connection: Connection, greeting: Greeting) -> None:
        assert self.actor is not None
        after_seq = greeting.after_seq
        self.registry.add_agent(connection)
        resync = None
        if greeting.conversation_id is not None:
            resync = await self._subscribe(connection, greeting.conversation_id, after_seq)
        check_origin(self._scope, self.host.settings.allowed_origins)
        await self.host.listening()  # with Redis: its own and the agents' channels
        if resync is not None:
            self._send_snapshot(connection, resync, after_seq=after_seq)
        instance_id = self.host.instance_id
        await self._refusing(
            run(presence.agent_connected, self.ctx, self.actor.agent_id, instance_id=instance_id)
        )

    async def _subscribe(
        self, connection: Connection, conversation_id: str, after_seq: int
    ) -> Resync:
        """Hold the conversation's live events back, read the snapshot, then let them go."""
        assert self.actor is not None
        connection.subscriptions[conversation_id] = Subscription()
        self.registry.subscribe(connection, conversation_id)
        try:
            await self.host.listening()  # with Redis: the channel first, then the read
            return await self._refusing(
                run(inbox.agent_resync, self.ctx, self.actor, conversation_id, after_seq=after_seq)
            )
        except Refused:
            self.registry.unsubscribe(connection, conversation_id)
            raise

    async def _refusing(self, pending: Awaitable[T]) -> T:
        """Await a use case; a domain refusal becomes the socket's own kind of refusal."""
        try:
            return await pending
        except DomainError as error:
            raise refusal_for(error) from None
        except StorageUnavailable as unavailable:
            raise Refused(CLOSE_TRY_AGAIN, "unavailable", str(unavailable)) from None

    def _send_snapshot(self, connection: Connection, resync: Resync, *, after_seq: int) -> None:
        view, page = resync.view, resync.page
        if view.conversation.id not in connection.subscriptions:
            return  # let go while the snapshot was read: it changed hands (see the hub)
        shown = conversation_listing_out(view) if connection.is_agent else conversation_out(view)
        messages = [message_out(m) for m in page.items]
        conversation_id = view.conversation.id
        subscribed = Subscribed(shown, messages, page.has_more)
        connection.send(self._frame("system.subscribed", subscribed, conversation_id))
        last = page.items[-1].seq if page.items else after_seq
        connection.release(conversation_id, snapshot_last_seq=last)

    async def _refuse(self, refused: Refused) -> None:
        text = self._frame("system.error", ErrorData(refused.code, refused.message))
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.send", "text": text})
            await self._send({"type": "websocket.close", "code": refused.close_code, "reason": ""})

    async def _on_frame(self, connection: Connection, text: str | None) -> None:
        if not self._admit_frame(connection):
            return
        if text is None:
            self._error(connection, "bad_request", "Frames are JSON text, not binary.")
            return
        try:
            frame = decode_client_frame(text)
            match frame:
                case Ping():
                    connection.send(self._frame("system.pong", Pong()))
                case Subscribe() if connection.is_agent:
                    resync = await self._subscribe(
                        connection, frame.conversation_id, frame.after_seq
                    )
                    self._send_snapshot(connection, resync, after_seq=frame.after_seq)
                case Unsubscribe() if connection.is_agent:
                    self.registry.unsubscribe(connection, frame.conversation_id)
                    ref = ConversationRef(frame.conversation_id)
                    connection.send(self._frame("system.unsubscribed", ref, frame.conversation_id))
                case Typing():
                    await self._typing(connection, frame)
                case _:
                    raise bad_request("Customers may only send typing and ping.")
        except BadFrame as bad:
            self._error(connection, "bad_request", str(bad))
        except Refused as refused:
            self._error(connection, refused.code, refused.message)

    def _admit_frame(self, connection: Connection) -> bool:
        """The per-connection frame limit, before any decoding. A frame over it is
        dropped: the first of a run is answered with ``rate_limited``; a client that
        drops another whole burst's worth before it has calmed down is closed (4429)."""
        limit = self.host.settings.frame_limit
        if limit is None:
            return True
        if connection.closing:
            return False
        now = time.monotonic()
        calm = self._frames_due is None or self._frames_due <= now  # a full allowance
        decision, self._frames_due = gcra(self._frames_due, now=now, limit=limit)
        if decision.allowed:
            if calm:
                self._frames_refused = 0
            return True
        self._frames_refused += 1
        wait = max(1, math.ceil(decision.retry_after))
        if self._frames_refused == 1:
            message = f"Too many frames: this one was dropped. Try again in {wait} s."
            self._error(connection, "rate_limited", message)
        elif self._frames_refused > limit.count:
            log.info("closing a connection that kept sending over the frame limit (4429)")
            data = ErrorData("rate_limited", "Too many frames: closing.")
            connection.close(CLOSE_RATE_LIMITED, last_words=self._frame("system.error", data))
        return False

    async def _typing(self, connection: Connection, frame: Typing) -> None:
        host = self.host
        if connection.conversation_id is not None:  # a customer: its one conversation
            conversation_id = connection.conversation_id
            host.relay_typing(connection, conversation_id, typist=None, is_typing=frame.is_typing)
            return
        assert self.actor is not None
        if frame.conversation_id is None:
            raise bad_request("An agent's typing frame names its conversation_id.")
        conversation_id = frame.conversation_id
        typist = await self._refusing(run(inbox.typist, self.ctx, self.actor, conversation_id))
        host.relay_typing(connection, conversation_id, typist=typist, is_typing=frame.is_typing)

    # Leaving

    def _close_when_the_token_dies(self, connection: Connection) -> asyncio.TimerHandle | None:
        if self.actor is None or self.actor.expires_at is None:
            return None
        left = (self.actor.expires_at - self.ctx.clock.now()).total_seconds()
        return asyncio.get_running_loop().call_later(max(left, 0.0), self._expire, connection)

    def _expire(self, connection: Connection) -> None:
        self.registry.remove(connection)
        words = self._frame("system.error", ErrorData("unauthorized", "Your session has expired."))
        connection.close(CLOSE_UNAUTHORIZED, last_words=words)

    async def _leave(self, connection: Connection) -> None:
        connection.finish()
        self.registry.remove(connection)
        self.host.end_typing(connection)
        if self.actor is not None:
            try:
                await run(
                    presence.agent_disconnected,
                    self.ctx,
                    self.actor.agent_id,
                    instance_id=self.host.instance_id,
                )
            except StorageUnavailable:
                # The database is down or busy: recorded later, or the agent would stay
                # online for ever (tests/faults/test_postgres_restart.py).
                self.host.disconnect_later(self.actor.agent_id)
            except Exception:
                log.exception("could not record an agent's disconnect")

    def _error(self, connection: Connection, code: str, message: str) -> None:
        connection.send(self._frame("system.error", ErrorData(code, message)))

    def _frame(self, kind: str, data: object, conversation_id: str | None = None) -> str:
        return encode(kind, data, now=self.ctx.clock.now(), conversation_id=conversation_id)
