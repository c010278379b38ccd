"""What a committed event becomes for the sockets: its frames, encoded once, and routing.

``broadcast_for`` is the one place a domain event turns into wire frames. It runs
once per event where the event is published (one process: before the hand-off
to the loop; with Redis: at the publishing instance, which sends the result), so
the hub only routes text it is given. A broadcast carries, next to the frames,
the few ids the hub needs to pick the sockets (who holds the chat, which
agent's tokens died), never the domain objects themselves.

With Redis, a broadcast crosses as msgpack (``to_bytes``/``from_bytes``): the
frames stay the JSON text they were encoded as, and no instance decodes them.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from adapters.realtime.frames import (
    AgentAssignedData,
    ChatClosedData,
    ClosedBy,
    ErrorData,
    PresenceData,
    encode,
)
from adapters.realtime.typing_state import CUSTOMER
from adapters.wire import (
    ConversationOut,
    CustomerOut,
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
from chatcore.messages import SenderType

# The tags are part of the format between instances during a rolling deploy:
# never rename one, only add.


class MessageFrames(msgspec.Struct, tag="message", array_like=True, frozen=True):
    conversation_id: str
    seq: int
    holder: str | None  # hears it without subscribing
    typist: str | None  # whose "typing…" the message ends: an agent id, CUSTOMER, or None
    text: str


class ConversationFrames(msgspec.Struct, tag="conversation", array_like=True, frozen=True):
    conversation_id: str
    holder: str | None  # the agent holding it (AGENT status), for the customers' presence
    every_agent: bool  # bot-held or a status change: every agent hears it, not the holder only
    for_customers: str
    for_agents: str
    # Subscriptions that end: None, none do; else only these agents (and admins) may
    # still watch it (chatcore.conversation.readable_by, decided where it was published).
    watchers: tuple[str, ...] | None
    # Added later, with defaults, so a broadcast from an older instance still decodes
    # (and an older instance ignores them). Agents who hear it but may not read it over
    # REST (not an admin, not in ``readers``) get ``for_outsiders``: no customer email,
    # no last message. None when every agent who hears it may read it.
    for_outsiders: str | None = None
    readers: tuple[str, ...] = ()

    def for_agent(self, agent_id: str | None, *, is_admin: bool) -> str:
        if self.for_outsiders is None or is_admin or agent_id in self.readers:
            return self.for_agents
        return self.for_outsiders


class AssignedFrames(msgspec.Struct, tag="assigned", array_like=True, frozen=True):
    conversation_id: str
    agent_id: str
    text: str


class ClosedFrames(msgspec.Struct, tag="closed", array_like=True, frozen=True):
    conversation_id: str
    holder: str | None
    text: str


class PresenceFrames(msgspec.Struct, tag="presence", array_like=True, frozen=True):
    agent_id: str
    text: str


class RevokedFrames(msgspec.Struct, tag="revoked", array_like=True, frozen=True):
    agent_id: str
    token_ids: tuple[str, ...] | None
    everything_but: str | None
    last_words: str

    def revokes(self, token_id: str | None) -> bool:
        if self.token_ids is not None:
            return token_id in self.token_ids
        if self.everything_but is not None:
            return token_id != self.everything_but
        return True


Broadcast = (
    MessageFrames
    | ConversationFrames
    | AssignedFrames
    | ClosedFrames
    | PresenceFrames
    | RevokedFrames
)


class UndecodableBroadcast(ValueError):
    """Bytes that are not a broadcast this version understands (logged and skipped)."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Broadcast)


def to_bytes(broadcast: Broadcast) -> bytes:
    return _encoder.encode(broadcast)


def from_bytes(data: bytes) -> Broadcast:
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError as error:
        raise UndecodableBroadcast(str(error)) from error


def event_to_bytes(event: DomainEvent, *, now: datetime) -> bytes:
    """What the Redis bus publishes for ``event``."""
    return to_bytes(broadcast_for(event, now=now))


def broadcast_for(event: DomainEvent, *, now: datetime) -> Broadcast:
    """The event's frames (the contract's payloads), stamped ``now``, and its routing ids."""
    match event:
        case MessageCreated():
            return _message_created(event, now)
        case ConversationUpdated():
            return _conversation_updated(event, now)
        case AgentAssigned():
            data = AgentAssignedData(event.conversation_id, assigned_agent_out(event.agent))
            text = encode("agent.assigned", data, now=now, conversation_id=event.conversation_id)
            return AssignedFrames(event.conversation_id, event.agent.id, text)
        case ChatClosed():
            closed_by = ClosedBy(event.closed_by.id, event.closed_by.display_name)
            closed = ChatClosedData(event.conversation_id, closed_by, timestamp(event.closed_at))
            text = encode("chat.closed", closed, now=now, conversation_id=event.conversation_id)
            return ClosedFrames(event.conversation_id, event.assigned_agent_id, text)
        case AgentPresenceChanged():
            presence = PresenceData(event.agent_id, event.display_name, event.presence.value)
            text = encode("agent.presence.changed", presence, now=now)
            return PresenceFrames(event.agent_id, text)
        case AgentAccessRevoked():
            ended = ErrorData("unauthorized", "Your session has ended. Log in again.")
            words = encode("system.error", ended, now=now)
            return RevokedFrames(event.agent_id, event.token_ids, event.everything_but, words)


def _message_created(event: MessageCreated, now: datetime) -> MessageFrames:
    message = event.message
    cid = message.conversation_id
    text = encode("message.created", message_out(message), now=now, conversation_id=cid)
    sender = message.sender
    typist: str | None = None
    if sender.type is SenderType.CUSTOMER:
        typist = CUSTOMER
    elif sender.type is SenderType.AGENT and sender.id:
        typist = sender.id
    return MessageFrames(cid, message.seq, event.assigned_agent_id, typist, text)


def _conversation_updated(event: ConversationUpdated, now: datetime) -> ConversationFrames:
    view = event.view
    conversation = view.conversation
    cid = conversation.id
    holder = conversation.assigned_agent_id if conversation.status is Status.AGENT else None
    for_customers = conversation_out(view)
    for_agents = conversation_listing_out(view)
    every_agent = conversation.status is Status.AUTOMATED or event.status_changed
    readers = _who_may_watch(conversation)
    ends = event.status_changed or event.previous_agent_id is not None
    # Only then do agents who may not read it hear it: at most one more text per event.
    outsiders_hear_it = every_agent and readers is not None
    return ConversationFrames(
        cid,
        holder,
        every_agent=every_agent,
        for_customers=encode("conversation.updated", for_customers, now=now, conversation_id=cid),
        for_agents=encode("conversation.updated", for_agents, now=now, conversation_id=cid),
        watchers=readers if ends else None,
        for_outsiders=_without_email(for_customers, now=now) if outsiders_hear_it else None,
        readers=readers or (),
    )


def _without_email(shown: ConversationOut, *, now: datetime) -> str:
    """What an agent who may not read the conversation learns: never the customer's email."""
    customer = CustomerOut(shown.customer.display_name, email=None)
    preview = msgspec.structs.replace(shown, customer=customer)
    return encode("conversation.updated", preview, now=now, conversation_id=shown.id)


_NOBODY = ""  # no agent has this id


def _who_may_watch(conversation: Conversation) -> tuple[str, ...] | None:
    """None when any agent may read it; else the agents who may (admins always may)."""
    if readable_by(conversation, _NOBODY, is_admin=False):
        return None
    named = (conversation.assigned_agent_id, conversation.closed_by_id)
    return tuple(
        agent_id
        for agent_id in dict.fromkeys(named)
        if agent_id is not None and readable_by(conversation, agent_id, is_admin=False)
    )
