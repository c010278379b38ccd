"""Domain events to bytes and back, for the Redis bus.

An event crosses Redis in an envelope: its kind (which dataclass), a unique id
and the id of the instance that published it, then the event itself. The id lets
a receiver listening to several channels (a conversation's and its holder's) hand
each event on once; the origin lets an instance recognise its own events.

msgpack through msgspec, which the project already uses for the wire: compact,
fast, and it encodes and decodes the domain's frozen dataclasses, StrEnums and
aware datetimes as they are, so the domain needs no serialisation code of its own.
Everything of an event travels, including a conversation's customer session id:
Redis sits inside the trust boundary, like the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec

from chatcore.events import (
    AgentAccessRevoked,
    AgentAssigned,
    AgentPresenceChanged,
    ChatClosed,
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
)

# The kind names are part of the format between instances of different versions
# during a rolling deploy: never rename one, only add.
KINDS: dict[str, type[DomainEvent]] = {
    "message.created": MessageCreated,
    "conversation.updated": ConversationUpdated,
    "agent.assigned": AgentAssigned,
    "chat.closed": ChatClosed,
    "agent.presence.changed": AgentPresenceChanged,
    "agent.access.revoked": AgentAccessRevoked,
}
_KIND_OF: dict[type[DomainEvent], str] = {cls: kind for kind, cls in KINDS.items()}
TYPING = "typing"  # not a domain event: see TypingNotice
RESYNC = "resync"  # nor this: see ResyncNotice


@dataclass(frozen=True, slots=True)
class TypingNotice:
    """Someone typing in a conversation, for the sockets other instances hold.

    Not a domain event (nothing is stored): the instance of the typist's socket
    publishes it, and every instance, the typist's included, shows it to its own
    sockets as the hub would. ``typist`` is an agent id, or "customer"; for the
    customer's typing, ``holder`` is the agent holding the chat, which hears it
    without subscribing (only the customer's instance knows who that is).
    """

    conversation_id: str
    typist: str
    display_name: str
    is_typing: bool
    holder: str | None = None


@dataclass(frozen=True, slots=True)
class ResyncNotice:
    """A publisher dropped events (Redis failed it) and publishes again: every socket
    that was open when the last one was dropped may have missed it, and must resync.

    ``dropped_ago``: seconds from the last drop to this notice's sending. A duration,
    not a time of day, so that instances need no common clock: the receiver takes
    it from its own clock (network delay only makes the drop look later, the safe side).
    """

    dropped: int
    dropped_ago: float


class _Envelope(msgspec.Struct, array_like=True, frozen=True):
    # The event stays raw until its kind is known: msgspec cannot pick between
    # several dataclasses in a union by itself.
    kind: str
    event_id: str
    origin: str
    event: msgspec.Raw


@dataclass(frozen=True, slots=True)
class Received:
    """An event as it came out of Redis, with its envelope."""

    event_id: str
    origin: str
    event: DomainEvent | TypingNotice | ResyncNotice


class UndecodableEvent(ValueError):
    """Bytes that are not an envelope this version understands (logged and skipped)."""


_encoder = msgspec.msgpack.Encoder()
_envelope_decoder = msgspec.msgpack.Decoder(_Envelope)
_event_decoders: dict[str, msgspec.msgpack.Decoder[DomainEvent | TypingNotice | ResyncNotice]] = {
    kind: msgspec.msgpack.Decoder(cls) for kind, cls in KINDS.items()
}
_event_decoders[TYPING] = msgspec.msgpack.Decoder(TypingNotice)
_event_decoders[RESYNC] = msgspec.msgpack.Decoder(ResyncNotice)


def new_event_id() -> str:
    return uuid.uuid4().hex


def encode(
    event: DomainEvent | TypingNotice | ResyncNotice, *, event_id: str, origin: str
) -> bytes:
    if isinstance(event, TypingNotice):
        kind = TYPING
    elif isinstance(event, ResyncNotice):
        kind = RESYNC
    else:
        kind = _KIND_OF[type(event)]
    return _encoder.encode(_Envelope(kind, event_id, origin, msgspec.Raw(_encoder.encode(event))))


def decode(data: bytes) -> Received:
    try:
        envelope = _envelope_decoder.decode(data)
        decoder = _event_decoders.get(envelope.kind)
        if decoder is None:
            raise UndecodableEvent(f"unknown event kind {envelope.kind!r}")
        event = decoder.decode(envelope.event)
    except msgspec.DecodeError as error:
        raise UndecodableEvent(str(error)) from error
    return Received(envelope.event_id, envelope.origin, event)
