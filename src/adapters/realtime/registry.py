"""Who is connected here, and what each of them watches. Runs on the event loop only.

Every index below maps a key (a conversation, an agent) to the sockets here that
it reaches. When a key gains its first socket or loses its last one, the registry
tells its observer (``Watchers``): with Redis, that is what keeps the listened-to
channels in step with the sockets (adapters/realtime/remote.py); in one process
nobody needs to know.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple, Protocol, TypeVar

from adapters.realtime.connection import Connection
from chatcore.conversation import Conversation, Status

T = TypeVar("T")


class Audience(StrEnum):
    CUSTOMERS = "customers"  # a conversation's customers
    SUBSCRIBERS = "subscribers"  # the agents subscribed to a conversation
    AGENT = "agent"  # one agent's own sockets
    AGENTS = "agents"  # every agent socket (key "")
    HOLDER = "holder"  # the customers whose chat an agent holds: they hear its presence


class Topic(NamedTuple):
    audience: Audience
    key: str = ""


class Watchers(Protocol):
    def on_first_watcher(self, topic: Topic) -> None: ...
    def on_last_watcher_gone(self, topic: Topic) -> None: ...


class _Nobody:
    def on_first_watcher(self, topic: Topic) -> None:
        pass

    def on_last_watcher_gone(self, topic: Topic) -> None:
        pass


class Registry:
    def __init__(self, watchers: Watchers | None = None) -> None:
        self._watchers: Watchers = watchers or _Nobody()
        self.agents: set[Connection] = set()
        # Lists, not sets: a key has one socket or a few, and a set of one costs 216
        # bytes to a list's 64, for each of ten thousand idle widgets. Each connection
        # is in a list at most once (_add).
        self._by_agent: dict[str, list[Connection]] = {}
        self._customers: dict[str, list[Connection]] = {}
        self._subscribers: dict[str, list[Connection]] = {}
        # Who holds each conversation a customer is connected to (AGENT status only),
        # and the other way round: presence changes reach exactly those customers.
        self._holders: dict[str, str] = {}
        self._held: dict[str, list[str]] = {}

    def add_agent(self, connection: Connection) -> None:
        assert connection.agent_id is not None
        if not self.agents:
            self._watchers.on_first_watcher(Topic(Audience.AGENTS))
        self.agents.add(connection)
        if _add(self._by_agent, connection.agent_id, connection):
            self._watchers.on_first_watcher(Topic(Audience.AGENT, connection.agent_id))

    def add_customer(self, connection: Connection) -> None:
        """Who holds the chat is learnt from the snapshot (learn_holder) and from events."""
        conversation_id = connection.conversation_id
        assert conversation_id is not None
        if _add(self._customers, conversation_id, connection):
            self._watchers.on_first_watcher(Topic(Audience.CUSTOMERS, conversation_id))

    def learn_holder(self, conversation_id: str, conversation: Conversation) -> None:
        """From a customer's snapshot, unless an event newer than it already told us."""
        holder = conversation.assigned_agent_id if conversation.status is Status.AGENT else None
        known = conversation_id in self._holders
        if holder and conversation_id in self._customers and not known:
            self._set_holder(conversation_id, holder)

    def update_holder(self, conversation_id: str, holder: str | None) -> None:
        """An event says who holds it now: remembered while customers here watch it."""
        if conversation_id in self._customers:
            self._set_holder(conversation_id, holder)

    def subscribe(self, connection: Connection, conversation_id: str) -> None:
        if _add(self._subscribers, conversation_id, connection):
            self._watchers.on_first_watcher(Topic(Audience.SUBSCRIBERS, conversation_id))

    def unsubscribe(self, connection: Connection, conversation_id: str) -> None:
        if _discard(self._subscribers, conversation_id, connection):
            self._watchers.on_last_watcher_gone(Topic(Audience.SUBSCRIBERS, conversation_id))
        connection.subscriptions.pop(conversation_id, None)

    def remove(self, connection: Connection) -> None:
        """Forget the socket everywhere (twice is harmless)."""
        for conversation_id in list(connection.subscriptions):
            self.unsubscribe(connection, conversation_id)
        agent_id = connection.agent_id
        if agent_id is not None and connection in self.agents:
            self.agents.discard(connection)
            if _discard(self._by_agent, agent_id, connection):
                self._watchers.on_last_watcher_gone(Topic(Audience.AGENT, agent_id))
            if not self.agents:
                self._watchers.on_last_watcher_gone(Topic(Audience.AGENTS))
        own = connection.conversation_id
        if own is not None and _discard(self._customers, own, connection):
            self._set_holder(own, None)
            self._watchers.on_last_watcher_gone(Topic(Audience.CUSTOMERS, own))

    # Lookups

    def all_connections(self) -> set[Connection]:
        everyone = set(self.agents)
        for connections in self._customers.values():
            everyone.update(connections)
        return everyone

    def holder_of(self, conversation_id: str) -> str | None:
        return self._holders.get(conversation_id)

    def held_by(self, agent_id: str) -> list[str]:
        """The conversations with customers here that ``agent_id`` holds."""
        return self._held.get(agent_id, [])

    def customers_of(self, conversation_id: str) -> set[Connection]:
        return set(self._customers.get(conversation_id, ()))

    def subscribers_of(self, conversation_id: str) -> set[Connection]:
        return set(self._subscribers.get(conversation_id, ()))

    def holder_connections(self, conversation_id: str) -> set[Connection]:
        holder = self._holders.get(conversation_id)
        return set(self._by_agent.get(holder, ())) if holder else set()

    def connections_of(self, agent_id: str | None) -> set[Connection]:
        return set(self._by_agent.get(agent_id, ())) if agent_id else set()

    def _set_holder(self, conversation_id: str, holder: str | None) -> None:
        old = self._holders.get(conversation_id)
        if old == holder:
            return
        if old is not None and _discard(self._held, old, conversation_id):
            self._watchers.on_last_watcher_gone(Topic(Audience.HOLDER, old))
        if holder is None:
            del self._holders[conversation_id]
            return
        self._holders[conversation_id] = holder
        if _add(self._held, holder, conversation_id):
            self._watchers.on_first_watcher(Topic(Audience.HOLDER, holder))


def _add(index: dict[str, list[T]], key: str, item: T) -> bool:
    """Add ``item`` under ``key``; True when the key is new (its first member)."""
    members = index.get(key)
    if members is None:
        index[key] = [item]
        return True
    if item not in members:
        members.append(item)
    return False


def _discard(index: dict[str, list[T]], key: str, item: T) -> bool:
    """Remove ``item`` from ``key``; True when that was the key's last member."""
    members = index.get(key)
    if members is None or item not in members:
        return False
    members.remove(item)
    if not members:
        del index[key]
        return True
    return False
