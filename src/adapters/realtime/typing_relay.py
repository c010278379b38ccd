"""Who sees whose "typing…": the contract's two typing rows, and taking it back in time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial

from adapters.realtime.connection import Connection
from adapters.realtime.frames import AgentTypingData, CustomerTypingData, encode
from adapters.realtime.hub import Hub
from adapters.realtime.typing_state import CUSTOMER, TypingTracker, TypistKey
from chatcore.agents import Agent


class TypingRelay:
    def __init__(self, hub: Hub, tracker: TypingTracker, *, now: Callable[[], datetime]) -> None:
        self._hub = hub
        self._tracker = tracker
        self._now = now

    def customer(self, connection: Connection, conversation_id: str, *, is_typing: bool) -> None:
        """To the agent holding the chat and its subscribers; never back to customers."""
        hub = self._hub
        self._show(
            connection,
            (conversation_id, CUSTOMER),
            "customer.typing",
            CustomerTypingData,
            lambda: hub.holder_connections(conversation_id) | hub.subscribers_of(conversation_id),
            is_typing=is_typing,
        )

    def agent(
        self, connection: Connection, typist: Agent, conversation_id: str, *, is_typing: bool
    ) -> None:
        """To the customer and the subscribers, but not to the typist's own sockets."""
        hub = self._hub
        self._show(
            connection,
            (conversation_id, typist.id),
            "agent.typing",
            partial(AgentTypingData, typist.id, typist.display_name),
            lambda: (
                (hub.customers_of(conversation_id) | hub.subscribers_of(conversation_id))
                - hub.connections_of(typist.id)
            ),
            is_typing=is_typing,
        )

    def _show(
        self,
        connection: Connection,
        key: TypistKey,
        kind: str,
        payload: Callable[[bool], object],
        audience: Callable[[], set[Connection]],
        *,
        is_typing: bool,
    ) -> None:
        """Tell the audience; a "typing" not refreshed in time is later taken back by itself."""
        conversation_id = key[0]

        def announce(typing_now: bool) -> None:
            text = encode(
                kind, payload(typing_now), now=self._now(), conversation_id=conversation_id
            )
            for reader in audience():
                reader.send_about(conversation_id, text)

        if is_typing:
            now = asyncio.get_running_loop().time()
            self._tracker.started(key, connection, now=now, stop=lambda: announce(False))
        else:
            self._tracker.stopped(key)
        announce(is_typing)
