"""Who sees whose "typing…": the contract's two typing rows, and taking it back in time.

In one process a typing frame is shown to the audience here and now. With a Redis
bus (``publish``) it goes out as a TypingNotice instead, on the conversation's
channel (and the holder's, for the customer's typing; see remote.py), and every
instance, this one included, shows it to its own sockets when it comes back
(``show``): one order for all. The indicator and its timeout stay with the
typist's instance.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import datetime

from adapters.realtime.connection import Connection
from adapters.realtime.frames import AgentTypingData, CustomerTypingData, encode
from adapters.realtime.registry import Registry
from adapters.realtime.typing_state import CUSTOMER, TypingTracker, TypistKey
from adapters.redis_bus.codec import TypingNotice
from chatcore.agents import Agent


class TypingRelay:
    def __init__(
        self,
        registry: Registry,
        tracker: TypingTracker,
        *,
        now: Callable[[], datetime],
        publish: Callable[[TypingNotice], None] | None = None,
    ) -> None:
        self._registry = registry
        self._tracker = tracker
        self._now = now
        # With Redis: to every instance, this one's included. Alone: shown here at once.
        self._publish = publish or self.show

    def customer(self, connection: Connection, conversation_id: str, *, is_typing: bool) -> None:
        """To the agent holding the chat and its subscribers; never back to customers."""
        self._typed(connection, TypingNotice(conversation_id, CUSTOMER, "", is_typing))

    def agent(
        self, connection: Connection, typist: Agent, conversation_id: str, *, is_typing: bool
    ) -> None:
        """To the customer and the subscribers, but not to the typist's own sockets."""
        notice = TypingNotice(conversation_id, typist.id, typist.display_name, is_typing)
        self._typed(connection, notice)

    def show(self, notice: TypingNotice) -> None:
        """Show a notice to the sockets held here (from Redis, or in one process)."""
        registry = self._registry
        conversation_id = notice.conversation_id
        if notice.typist == CUSTOMER:
            kind = "customer.typing"
            data: object = CustomerTypingData(notice.is_typing)
            holder = (
                registry.connections_of(notice.holder)
                if notice.holder is not None
                else registry.holder_connections(conversation_id)
            )
            audience = holder | registry.subscribers_of(conversation_id)
        else:
            kind = "agent.typing"
            data = AgentTypingData(notice.typist, notice.display_name, notice.is_typing)
            audience = (
                registry.customers_of(conversation_id) | registry.subscribers_of(conversation_id)
            ) - registry.connections_of(notice.typist)
        text = encode(kind, data, now=self._now(), conversation_id=conversation_id)
        for reader in audience:
            reader.send_about(conversation_id, text)

    def _typed(self, connection: Connection, notice: TypingNotice) -> None:
        """Tell the audience; a "typing" not refreshed in time is later taken back by itself."""
        key: TypistKey = (notice.conversation_id, notice.typist)
        if notice.is_typing:
            now = asyncio.get_running_loop().time()
            stopped = TypingNotice(
                notice.conversation_id, notice.typist, notice.display_name, False
            )
            self._tracker.started(key, connection, now=now, stop=lambda: self._announce(stopped))
        else:
            self._tracker.stopped(key)
        self._announce(notice)

    def _announce(self, notice: TypingNotice) -> None:
        if notice.typist == CUSTOMER:
            # Who holds the chat now; only the customer's instance knows: the notice says.
            holder = self._registry.holder_of(notice.conversation_id)
            notice = dataclasses.replace(notice, holder=holder)
        self._publish(notice)
