"""One socket: a bounded send queue drained by its own writer, so nobody waits on a slow peer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from adapters.realtime.frames import CLOSE_TOO_SLOW

log = logging.getLogger("chatcore.realtime")


@dataclass(eq=False)
class Subscription:
    """Events that arrive while the snapshot is being read wait here, then go after it.

    ``floor`` stays after the release: the event of a message the snapshot already
    held can still reach the loop after the snapshot was sent (the reading thread
    may report back before the committing thread publishes), and must not be sent
    twice.
    """

    snapshot_pending: bool = True
    floor: int = 0
    held_back: list[tuple[int | None, str]] = field(default_factory=list)

    def already_sent(self, seq: int | None) -> bool:
        return seq is not None and seq <= self.floor


class Connection:
    """A live socket of a customer (one conversation) or an agent (any number)."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        queue_frames: int,
        close_timeout: float,
        agent_id: str | None = None,
        token_id: str | None = None,
        conversation_id: str | None = None,
    ) -> None:
        self.websocket = websocket
        self.agent_id = agent_id
        self.token_id = token_id
        self.conversation_id = conversation_id  # a customer's one conversation
        self.subscriptions: dict[str, Subscription] = {}
        self.close_code: int | None = None
        self._limit = queue_frames
        # Unbounded as a type, bounded by send(): room stays for last words and the end mark.
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._close_timeout = close_timeout
        self._closing = asyncio.Event()

    @property
    def is_agent(self) -> bool:
        return self.agent_id is not None

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def send(self, text: str) -> None:
        """Queue a frame without waiting; a peer that far behind is cut off with 1013."""
        if self.closing:
            return
        if self._queue.qsize() >= self._limit:
            log.info(
                "closing a slow %s connection (1013)", "agent" if self.is_agent else "customer"
            )
            self.close(CLOSE_TOO_SLOW)
            return
        self._queue.put_nowait(text)

    def send_about(self, conversation_id: str, text: str, *, seq: int | None = None) -> None:
        """Like send, but held back while that conversation's snapshot is being read."""
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None:
            self.send(text)
        elif subscription.snapshot_pending:
            subscription.held_back.append((seq, text))
        elif not subscription.already_sent(seq):
            self.send(text)

    def release(self, conversation_id: str, *, snapshot_last_seq: int) -> None:
        """The snapshot went out: send what was held back that it did not already hold."""
        subscription = self.subscriptions.get(conversation_id)
        if subscription is None:
            return
        subscription.snapshot_pending = False
        subscription.floor = snapshot_last_seq
        held, subscription.held_back = subscription.held_back, []
        for seq, text in held:
            if not subscription.already_sent(seq):
                self.send(text)

    def close(self, code: int, *, last_words: str | None = None) -> None:
        """Drop what is queued, say ``last_words`` if any, then close with ``code``."""
        if self.closing:
            return
        self.close_code = code
        self._closing.set()
        while not self._queue.empty():
            self._queue.get_nowait()
        if last_words is not None:
            self._queue.put_nowait(last_words)
        self._queue.put_nowait(None)

    async def given_up(self) -> None:
        """Returns once a close was asked for and the peer had its time to take it.

        A peer that stopped reading leaves the writer stuck behind a full socket
        buffer, where not even the close frame gets through: after this, the
        connection counts as gone for us (hub, presence) whatever the socket does.
        """
        await self._closing.wait()
        await asyncio.sleep(self._close_timeout)

    async def write_until_closed(self) -> None:
        """The writer: one per socket, so a slow peer only ever blocks itself."""
        while True:
            text = await self._queue.get()
            if text is None:
                break
            try:
                await asyncio.wait_for(self.websocket.send_text(text), self._close_timeout)
            except TimeoutError:
                # Not one frame taken in that long: the peer stopped reading. Give up
                # on it now; a live reader reconnects and resyncs.
                log.info("dropping a connection that stopped reading")
                self.close(CLOSE_TOO_SLOW)
                return
        # The close frame waits behind whatever the peer has not read yet; a peer that
        # never reads again is dropped by the heartbeat, or by this timeout.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(self.close_code or 1000), self._close_timeout
            )
