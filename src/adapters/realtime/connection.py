"""One socket's sending side: frames go out at once; only backpressure makes them wait.

uvicorn's ASGI ``send`` only waits while the transport's buffer is over its
high-water mark, so a frame is written on the spot (``eager.start``), by whatever
sends it (the hub's fan-out, the reader's pong), with no task and no queue. When
a send does wait, it and every frame after it wait in a bounded backlog that one
task drains, and that task ends with the backlog. An idle socket, and one that
keeps up, costs no task: a writer task and its queue per socket were a third of
what an idle socket cost, and a fan-out to 1,000 sockets woke 1,000 of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable
from typing import Any

from starlette.types import Message, Send

from adapters.realtime import eager
from adapters.realtime.frames import CLOSE_TOO_SLOW

log = logging.getLogger("chatcore.realtime")

CLOSE_ABNORMAL = 1006  # never sent: marks a connection whose peer went away under a write
CLOSE_NORMAL = 1000


class Subscription:
    """Events that arrive while the snapshot is being read wait here, then go after it.

    ``floor`` stays after the release: the event of a message the snapshot already
    held can still reach the loop after the snapshot was sent (the reading thread
    may report back before the committing thread publishes), and must not be sent
    twice. ``held_back`` is None once released: no empty list kept per socket.
    """

    __slots__ = ("floor", "held_back")

    def __init__(self) -> None:
        self.floor = 0
        self.held_back: list[tuple[int | None, str]] | None = []

    def already_sent(self, seq: int | None) -> bool:
        return seq is not None and seq <= self.floor


class Connection:
    """A live socket of a customer (one conversation) or an agent (any number)."""

    # Slots: ten thousand of these are held at once, and a __dict__ each is not free.
    __slots__ = (
        "_asgi_send",
        "_backlog",
        "_close_timeout",
        "_drainer",
        "_give_up",
        "_limit",
        "agent_id",
        "close_code",
        "conversation_id",
        "ended",
        "is_admin",
        "reader",
        "subscriptions",
        "token_id",
    )

    def __init__(
        self,
        send: Send,
        *,
        queue_frames: int,
        close_timeout: float,
        agent_id: str | None = None,
        token_id: str | None = None,
        conversation_id: str | None = None,
        is_admin: bool = False,
    ) -> None:
        self._asgi_send = send
        self.agent_id = agent_id
        self.token_id = token_id
        self.is_admin = is_admin  # an admin's subscriptions outlive any change of holder
        self.conversation_id = conversation_id  # a customer's one conversation
        self.subscriptions: dict[str, Subscription] = {}
        self.close_code: int | None = None
        self.ended = False  # over for us (hub, presence), whatever the socket still does
        self._limit = queue_frames
        self._close_timeout = close_timeout
        # Frames waiting (None: the close frame): all of them until the handshake is
        # over (open), then only those behind a send that suspended. While this is
        # None nothing waits, and the next frame is written at once.
        self._backlog: deque[str | None] | None = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._give_up: asyncio.TimerHandle | None = None
        self.reader: asyncio.Task[Any] | None = None  # the session's, while it waits to read

    @property
    def is_agent(self) -> bool:
        return self.agent_id is not None

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    # Sending

    def open(self) -> None:
        """The handshake went through: what it queued goes out, in order, and from now
        on every frame is written at once. (A refused handshake sends none of it.)"""
        queued, self._backlog = self._backlog, None
        for item in queued or ():
            self._put(item)

    def send(self, text: str) -> None:
        """Send a frame without waiting; a peer that far behind is cut off with 1013."""
        if self.close_code is not None:
            return
        backlog = self._backlog
        if backlog is None:
            self._write(text)
        elif len(backlog) >= self._limit:
            log.info(
                "closing a slow %s connection (1013)", "agent" if self.is_agent else "customer"
            )
            self.close(CLOSE_TOO_SLOW)
        else:
            backlog.append(text)

    def send_about(self, conversation_id: str, text: str, *, seq: int | None = None) -> None:
        """Like send, but held back while that conversation's snapshot is being read."""
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None:
            self.send(text)
        elif subscription.held_back is not None:
            subscription.held_back.append((seq, text))
        elif not subscription.already_sent(seq):
            self.send(text)

    def release(self, conversation_id: str, *, snapshot_last_seq: int) -> None:
        """The snapshot went out: send what was held back that it did not already hold."""
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None:
            return
        subscription.floor = snapshot_last_seq
        held, subscription.held_back = subscription.held_back or [], None
        for seq, text in held:
            if not subscription.already_sent(seq):
                self.send(text)

    def close(self, code: int, *, last_words: str | None = None) -> None:
        """Drop what waits, say ``last_words`` if any, then close with ``code``.

        A peer that stopped reading never takes the close frame: after
        ``close_timeout`` the connection counts as gone for us (hub, presence)
        whatever the socket does.
        """
        if self.close_code is not None:
            return
        self.close_code = code
        self._give_up = asyncio.get_running_loop().call_later(self._close_timeout, self.end)
        if self._backlog is not None:
            self._backlog.clear()  # the frame being written goes on; the rest is dropped
        if last_words is not None:
            self._put(last_words)
        self._put(None)

    def _put(self, item: str | None) -> None:
        if self.ended:
            return
        if self._backlog is None:
            self._write(item)
        else:
            self._backlog.append(item)

    def _write(self, item: str | None) -> None:
        """Send here and now; if the send has to wait, a drain task takes it over."""
        try:
            rest = eager.start(self._asgi_send(self._message(item)))
        except Exception:
            self._lost()
            return
        if rest is not None:
            self._backlog = deque()
            self._drainer = asyncio.get_running_loop().create_task(
                self._drain(rest, closing=item is None)
            )

    def _message(self, item: str | None) -> Message:
        if item is None:
            return {"type": "websocket.close", "code": self.close_code or CLOSE_NORMAL}
        return {"type": "websocket.send", "text": item}

    async def _drain(self, sending: Awaitable[None], *, closing: bool) -> None:
        """Only while the peer reads slower than we send: one frame at a time, in order."""
        try:
            while True:
                try:
                    async with asyncio.timeout(self._close_timeout):
                        await sending
                except TimeoutError:
                    if not closing:
                        # Not one frame taken in that long: the peer stopped reading. Give
                        # up on it now; a live reader reconnects and resyncs.
                        log.info("dropping a connection that stopped reading")
                        self.close_code = self.close_code or CLOSE_TOO_SLOW
                    self.end()
                    return
                backlog = self._backlog
                if closing or not backlog:
                    self._backlog = None  # caught up: write at once again
                    return
                item = backlog.popleft()
                closing = item is None
                sending = self._asgi_send(self._message(item))
        except Exception:
            self._lost()
        finally:
            self._drainer = None

    def _lost(self) -> None:
        """A write failed: the peer is gone. Nothing more is sent; the session ends."""
        self.close_code = self.close_code or CLOSE_ABNORMAL
        self.end()

    # Ending

    def end(self) -> None:
        """The connection is gone for us: the session stops reading and leaves.

        Its task is cancelled only while it waits for the peer's next message (it
        sets ``reader`` just for that wait), so the cancel lands on that wait and
        nowhere else; busy elsewhere, it sees ``ended`` before it reads again.
        """
        if self.ended:
            return
        self.ended = True
        if self.reader is not None:
            self.reader.cancel()

    def cancelled_by_end(self, task: asyncio.Task[Any]) -> bool:
        """Whether the reader's cancel was end()'s; if so it is taken back. Anyone
        else's (a server that stops) goes on up."""
        if not self.ended or task.cancelling() > 1:
            return False
        task.uncancel()
        return True

    def finish(self) -> None:
        """The session left: nothing more is written, no timer or task outlives it."""
        self.close_code = self.close_code or CLOSE_NORMAL
        self.ended = True
        if self._give_up is not None:
            self._give_up.cancel()
            self._give_up = None
        if self._drainer is not None:
            self._drainer.cancel()
        self._backlog = None
