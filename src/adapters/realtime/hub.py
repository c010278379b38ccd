"""The hub: who is connected, and which of them each event reaches.

Runs on the event loop only. Domain events come in (after commit, in commit
order) through ``deliver``; each becomes at most two encoded frames (one for
customers, one for agents), queued on every socket the contract's table names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.realtime.connection import Connection
from adapters.realtime.frames import (
    CLOSE_UNAUTHORIZED,
    AgentAssignedData,
    ChatClosedData,
    ClosedBy,
    ConversationRef,
    ErrorData,
    PresenceData,
    encode,
)
from adapters.wire import (
    assigned_agent_out,
    conversation_listing_out,
    conversation_out,
    message_out,
    timestamp,
)
from chatcore.conversation import Conversation, Status, readable_by
from chatcore.events import (
    AgentAccessRevoked,
    AgentAssigned,
    AgentPresenceChanged,
    ChatClosed,
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
)

if TYPE_CHECKING:
    from adapters.realtime.remote import RemoteChannels


class Hub:
    def __init__(
        self, *, now: Callable[[], datetime], remote: RemoteChannels | None = None
    ) -> None:
        self._now = now
        # With a Redis bus: the channels the sockets held here need, kept in step
        # with the registry below. None in one process: nothing to listen to.
        self.remote = remote
        self.agents: set[Connection] = set()
        # Lists, not sets: a key has one socket or a few, and a set of one costs 216
        # bytes to a list's 64, for each of ten thousand idle widgets. Each connection
        # is in a list at most once (_add).
        self._by_agent: dict[str, list[Connection]] = {}
        self._customers: dict[str, list[Connection]] = {}
        self._subscribers: dict[str, list[Connection]] = {}
        # Who holds each conversation a customer is connected to (AGENT status only):
        # presence changes reach exactly those customers.
        self._holders: dict[str, str] = {}

    # Registry

    def add_agent(self, connection: Connection) -> None:
        assert connection.agent_id is not None
        first = not self.agents
        self.agents.add(connection)
        new = _add(self._by_agent, connection.agent_id, connection)
        remote = self.remote
        if remote is not None:
            if new:
                remote.need(remote.agent(connection.agent_id))
            if first and self.agents:
                remote.need(remote.agents())

    def add_customer(self, connection: Connection) -> None:
        """Who holds the chat is learnt from the snapshot (learn_holder) and from events."""
        assert connection.conversation_id is not None
        new = _add(self._customers, connection.conversation_id, connection)
        if new and self.remote is not None:
            self.remote.need(self.remote.conversation(connection.conversation_id))

    def learn_holder(self, conversation_id: str, conversation: Conversation) -> None:
        """From a customer's snapshot, unless an event newer than it already told us."""
        holder = conversation.assigned_agent_id if conversation.status is Status.AGENT else None
        known = conversation_id in self._holders
        if holder and conversation_id in self._customers and not known:
            self._set_holder(conversation_id, holder)

    def subscribe(self, connection: Connection, conversation_id: str) -> None:
        if _add(self._subscribers, conversation_id, connection) and self.remote is not None:
            self.remote.need(self.remote.conversation(conversation_id))

    def unsubscribe(self, connection: Connection, conversation_id: str) -> None:
        gone = _discard(self._subscribers, conversation_id, connection)
        if gone and self.remote is not None:
            self.remote.drop(self.remote.conversation(conversation_id))
        connection.subscriptions.pop(conversation_id, None)

    def remove(self, connection: Connection) -> None:
        remote = self.remote
        for conversation_id in list(connection.subscriptions):
            self.unsubscribe(connection, conversation_id)
        if connection.agent_id is not None:
            had_agents = bool(self.agents)
            self.agents.discard(connection)
            if _discard(self._by_agent, connection.agent_id, connection) and remote is not None:
                remote.drop(remote.agent(connection.agent_id))
            if had_agents and not self.agents and remote is not None:
                remote.drop(remote.agents())
        own = connection.conversation_id
        if own is not None and _discard(self._customers, own, connection):
            self._set_holder(own, None)
            if remote is not None:
                remote.drop(remote.conversation(own))

    async def listening(self) -> bool:
        """Wait until the channels asked for so far are listened to (True in one process)."""
        return True if self.remote is None else await self.remote.settled()

    def all_connections(self) -> set[Connection]:
        everyone = set(self.agents)
        for connections in self._customers.values():
            everyone.update(connections)
        return everyone

    def holder_of(self, conversation_id: str) -> str | None:
        return self._holders.get(conversation_id)

    # Lookups for typing, which never touches storage

    def customers_of(self, conversation_id: str) -> set[Connection]:
        return set(self._customers.get(conversation_id, ()))

    def subscribers_of(self, conversation_id: str) -> set[Connection]:
        return set(self._subscribers.get(conversation_id, ()))

    def holder_connections(self, conversation_id: str) -> set[Connection]:
        holder = self._holders.get(conversation_id)
        return set(self._by_agent.get(holder, ())) if holder else set()

    def connections_of(self, agent_id: str) -> set[Connection]:
        return set(self._by_agent.get(agent_id, ()))

    # Routing: the contract's "who receives what", one method per event

    def deliver(self, event: DomainEvent) -> None:
        match event:
            case MessageCreated():
                self._message_created(event)
            case ConversationUpdated():
                self._conversation_updated(event)
            case AgentAssigned():
                self._agent_assigned(event)
            case ChatClosed():
                self._chat_closed(event)
            case AgentPresenceChanged():
                self._presence_changed(event)
            case AgentAccessRevoked():
                self._access_revoked(event)

    def _message_created(self, event: MessageCreated) -> None:
        message = event.message
        conversation_id = message.conversation_id
        text = encode(
            "message.created",
            message_out(message),
            now=self._now(),
            conversation_id=conversation_id,
        )
        readers = (
            self.customers_of(conversation_id)
            | self.subscribers_of(conversation_id)
            | self._holder_now(event.assigned_agent_id)
        )
        for connection in readers:
            connection.send_about(conversation_id, text, seq=message.seq)

    def _conversation_updated(self, event: ConversationUpdated) -> None:
        conversation = event.view.conversation
        holder = conversation.assigned_agent_id if conversation.status is Status.AGENT else None
        if conversation.id in self._customers:
            self._set_holder(conversation.id, holder)
        now = self._now()
        for_customer = encode(
            "conversation.updated",
            conversation_out(event.view),
            now=now,
            conversation_id=conversation.id,
        )
        for connection in self.customers_of(conversation.id):
            connection.send_about(conversation.id, for_customer)
        everyone = conversation.status is Status.AUTOMATED or event.status_changed
        agents = set(self.agents) if everyone else self._holder_now(holder)
        for_agents = encode(
            "conversation.updated",
            conversation_listing_out(event.view),
            now=now,
            conversation_id=conversation.id,
        )
        for connection in agents:
            connection.send_about(conversation.id, for_agents)
        if event.status_changed or event.previous_agent_id is not None:
            self._end_subscriptions_no_longer_allowed(conversation)

    def _end_subscriptions_no_longer_allowed(self, conversation: Conversation) -> None:
        """A subscription lasts while its agent may read the conversation over REST.

        Any agent may watch what the bot holds; once another agent holds it, the
        watchers are told ``system.unsubscribed`` and hear nothing more of it.
        """
        for connection in self.subscribers_of(conversation.id):
            agent_id = connection.agent_id
            if agent_id is None or readable_by(
                conversation, agent_id, is_admin=connection.is_admin
            ):
                continue
            self.unsubscribe(connection, conversation.id)
            ref = ConversationRef(conversation.id)
            connection.send(
                encode("system.unsubscribed", ref, now=self._now(), conversation_id=conversation.id)
            )

    def _agent_assigned(self, event: AgentAssigned) -> None:
        data = AgentAssignedData(event.conversation_id, assigned_agent_out(event.agent))
        text = encode(
            "agent.assigned", data, now=self._now(), conversation_id=event.conversation_id
        )
        if event.conversation_id in self._customers:
            self._set_holder(event.conversation_id, event.agent.id)
        for connection in self.customers_of(event.conversation_id) | self.agents:
            connection.send_about(event.conversation_id, text)

    def _chat_closed(self, event: ChatClosed) -> None:
        closed_by = ClosedBy(event.closed_by.id, event.closed_by.display_name)
        data = ChatClosedData(event.conversation_id, closed_by, timestamp(event.closed_at))
        text = encode("chat.closed", data, now=self._now(), conversation_id=event.conversation_id)
        readers = (
            self.customers_of(event.conversation_id)
            | self.subscribers_of(event.conversation_id)
            | self._holder_now(event.assigned_agent_id)
        )
        for connection in readers:
            connection.send_about(event.conversation_id, text)

    def _presence_changed(self, event: AgentPresenceChanged) -> None:
        data = PresenceData(event.agent_id, event.display_name, event.presence.value)
        text = encode("agent.presence.changed", data, now=self._now())
        for connection in self.agents:
            connection.send(text)
        for conversation_id, holder in self._holders.items():
            if holder == event.agent_id:
                for connection in self.customers_of(conversation_id):
                    connection.send_about(conversation_id, text)

    def _access_revoked(self, event: AgentAccessRevoked) -> None:
        words = encode(
            "system.error",
            ErrorData("unauthorized", "Your session has ended. Log in again."),
            now=self._now(),
        )
        for connection in self.connections_of(event.agent_id):
            if _revokes(event, connection.token_id):
                self.remove(connection)
                connection.close(CLOSE_UNAUTHORIZED, last_words=words)

    def _holder_now(self, agent_id: str | None) -> set[Connection]:
        return self.connections_of(agent_id) if agent_id else set()

    def _set_holder(self, conversation_id: str, holder: str | None) -> None:
        old = self._holders.get(conversation_id)
        if old == holder:
            return
        if holder is None:
            del self._holders[conversation_id]
        else:
            self._holders[conversation_id] = holder
        remote = self.remote
        if remote is not None:
            # The customers here hear the holder's presence, and only while it holds.
            if holder is not None:
                remote.need(remote.presence(holder))
            if old is not None:
                remote.drop(remote.presence(old))


def _revokes(event: AgentAccessRevoked, token_id: str | None) -> bool:
    if event.token_ids is not None:
        return token_id in event.token_ids
    if event.everything_but is not None:
        return token_id != event.everything_but
    return True


def _add(index: dict[str, list[Connection]], key: str, item: Connection) -> bool:
    """Add ``item`` under ``key``; True when the key is new (its first member)."""
    members = index.get(key)
    if members is None:
        index[key] = [item]
        return True
    if item not in members:
        members.append(item)
    return False


def _discard(index: dict[str, list[Connection]], key: str, item: Connection) -> bool:
    """Remove ``item`` from ``key``; True when that was the key's last member."""
    members = index.get(key)
    if members is None or item not in members:
        return False
    members.remove(item)
    if not members:
        del index[key]
        return True
    return False
