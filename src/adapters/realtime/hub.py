"""The hub: which sockets each broadcast reaches. Runs on the event loop only.

Broadcasts come in after commit, in commit order, their frames already encoded
(adapters/realtime/outbound.py): the hub picks the sockets the contract's table
names, from the registry, and queues the text on them. A socket that qualifies
twice (subscribed *and* assigned) gets it once. An agent who hears of a
conversation it may not read gets the preview without the customer's email.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapters.realtime.frames import CLOSE_UNAUTHORIZED, ConversationRef, encode
from adapters.realtime.outbound import (
    AssignedFrames,
    Broadcast,
    ClosedFrames,
    ConversationFrames,
    MessageFrames,
    PresenceFrames,
    RevokedFrames,
)
from adapters.realtime.registry import Registry


class Hub:
    def __init__(self, registry: Registry, *, now: Callable[[], datetime]) -> None:
        self._registry = registry
        self._now = now

    def route(self, broadcast: Broadcast) -> None:
        match broadcast:
            case MessageFrames():
                self._message_created(broadcast)
            case ConversationFrames():
                self._conversation_updated(broadcast)
            case AssignedFrames():
                self._agent_assigned(broadcast)
            case ClosedFrames():
                self._chat_closed(broadcast)
            case PresenceFrames():
                self._presence_changed(broadcast)
            case RevokedFrames():
                self._access_revoked(broadcast)

    def _message_created(self, frames: MessageFrames) -> None:
        registry, conversation_id = self._registry, frames.conversation_id
        readers = (
            registry.customers_of(conversation_id)
            | registry.subscribers_of(conversation_id)
            | registry.connections_of(frames.holder)
        )
        for connection in readers:
            connection.send_about(conversation_id, frames.text, seq=frames.seq)

    def _conversation_updated(self, frames: ConversationFrames) -> None:
        registry, conversation_id = self._registry, frames.conversation_id
        registry.update_holder(conversation_id, frames.holder)
        for connection in registry.customers_of(conversation_id):
            connection.send_about(conversation_id, frames.for_customers)
        agents = (
            set(registry.agents) if frames.every_agent else registry.connections_of(frames.holder)
        )
        for connection in agents:
            text = frames.for_agent(connection.agent_id, is_admin=connection.is_admin)
            connection.send_about(conversation_id, text)
        if frames.watchers is not None:
            self._end_subscriptions_no_longer_allowed(conversation_id, frames.watchers)

    def _end_subscriptions_no_longer_allowed(
        self, conversation_id: str, watchers: tuple[str, ...]
    ) -> None:
        """A subscription lasts while its agent may read the conversation over REST.

        Any agent may watch what the bot holds; once another agent holds it, the
        watchers are told ``system.unsubscribed`` and hear nothing more of it.
        """
        for connection in self._registry.subscribers_of(conversation_id):
            agent_id = connection.agent_id
            if agent_id is None or connection.is_admin or agent_id in watchers:
                continue
            self._registry.unsubscribe(connection, conversation_id)
            ref = ConversationRef(conversation_id)
            connection.send(
                encode("system.unsubscribed", ref, now=self._now(), conversation_id=conversation_id)
            )

    def _agent_assigned(self, frames: AssignedFrames) -> None:
        registry, conversation_id = self._registry, frames.conversation_id
        registry.update_holder(conversation_id, frames.agent_id)
        for connection in registry.customers_of(conversation_id) | registry.agents:
            connection.send_about(conversation_id, frames.text)

    def _chat_closed(self, frames: ClosedFrames) -> None:
        registry, conversation_id = self._registry, frames.conversation_id
        readers = (
            registry.customers_of(conversation_id)
            | registry.subscribers_of(conversation_id)
            | registry.connections_of(frames.holder)
        )
        for connection in readers:
            connection.send_about(conversation_id, frames.text)

    def _presence_changed(self, frames: PresenceFrames) -> None:
        registry, text = self._registry, frames.text
        for connection in registry.agents:
            connection.send(text)
        for conversation_id in list(registry.held_by(frames.agent_id)):
            for connection in registry.customers_of(conversation_id):
                connection.send_about(conversation_id, text)

    def _access_revoked(self, frames: RevokedFrames) -> None:
        for connection in self._registry.connections_of(frames.agent_id):
            if frames.revokes(connection.token_id):
                self._registry.remove(connection)
                connection.close(CLOSE_UNAUTHORIZED, last_words=frames.last_words)
