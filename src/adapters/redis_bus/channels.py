"""Which Redis channels an event goes to: the contract's "who receives what", by instance.

A channel names a set of sockets that some instance may hold, so an instance
listens exactly to the channels of the sockets it holds and receives nothing it
would have to throw away:

- ``{ns}:conversation:{id}``: the conversation's customers and subscribed agents.
  Every event about one conversation goes here.
- ``{ns}:agent:{id}``: that agent's own sockets. What its holder hears without
  subscribing (``message.created``, ``conversation.updated``, ``chat.closed`` of
  the chats assigned to it, by the assigned agent id the event carries) and the
  revocation of its tokens.
- ``{ns}:presence:{id}``: the customers of the chats that agent holds, which hear
  its presence changes and nothing else about it. Apart from ``agent:{id}`` so
  that an instance holding such a customer is not sent the agent's other chats.
- ``{ns}:agents``: what every agent connection hears (``agent.assigned``,
  ``agent.presence.changed``, ``conversation.updated`` of bot-held chats and of
  status changes). A broadcast, but not the "one global channel every instance
  must filter" the scale-out issue rules out: only instances that hold at least
  one agent socket listen to it, and each of those needs every event on it,
  because each of its agent sockets does. Customer-only instances never see it.

Typing indicators are not domain events and do not pass through here: the
realtime adapter sends them itself (codec.TypingNotice) to the conversation's
channel, and the holder's for the customer's typing.

- ``{ns}:resync``: every instance listens, always. A publisher that dropped
  events says so here when it publishes again (codec.ResyncNotice, bus.py).
The namespace keeps deployments that share a Redis apart: Pub/Sub channels are
server-wide, whatever database number the URL names.
"""

from __future__ import annotations

from chatcore.conversation import Status
from chatcore.events import (
    AgentAccessRevoked,
    AgentAssigned,
    AgentPresenceChanged,
    ChatClosed,
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
)

NAMESPACE = "chatcore"


def conversation_channel(conversation_id: str, *, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:conversation:{conversation_id}"


def agent_channel(agent_id: str, *, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:agent:{agent_id}"


def presence_channel(agent_id: str, *, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:presence:{agent_id}"


def agents_channel(*, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:agents"


def resync_channel(*, namespace: str = NAMESPACE) -> str:
    return f"{namespace}:resync"


def channels_for(event: DomainEvent, *, namespace: str = NAMESPACE) -> tuple[str, ...]:
    """Every channel ``event`` must reach, in a fixed order, without repeats.

    Mirrors adapters/realtime/hub.py's ``route``: a socket the hub would send
    the event to listens to at least one of these channels.
    """
    ns = namespace
    match event:
        case MessageCreated():
            return _with_holder(
                conversation_channel(event.message.conversation_id, namespace=ns),
                event.assigned_agent_id,
                namespace=ns,
            )
        case ConversationUpdated():
            conversation = event.view.conversation
            own = conversation_channel(conversation.id, namespace=ns)
            if conversation.status is Status.AUTOMATED or event.status_changed:
                return (own, agents_channel(namespace=ns))
            holder = conversation.assigned_agent_id if conversation.status is Status.AGENT else None
            return _with_holder(own, holder, namespace=ns)
        case AgentAssigned():
            return (
                conversation_channel(event.conversation_id, namespace=ns),
                agents_channel(namespace=ns),
            )
        case ChatClosed():
            return _with_holder(
                conversation_channel(event.conversation_id, namespace=ns),
                event.assigned_agent_id,
                namespace=ns,
            )
        case AgentPresenceChanged():
            return (agents_channel(namespace=ns), presence_channel(event.agent_id, namespace=ns))
        case AgentAccessRevoked():
            return (agent_channel(event.agent_id, namespace=ns),)


def _with_holder(own: str, holder: str | None, *, namespace: str) -> tuple[str, ...]:
    return (own, agent_channel(holder, namespace=namespace)) if holder else (own,)
