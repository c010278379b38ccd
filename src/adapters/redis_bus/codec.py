"""What crosses Redis, to bytes and back: an event's payload, typing and resync notices.

Everything crosses in an envelope: its kind, a unique id and the id of the
instance that published it, then the item. The id lets a receiver listening to
several channels (a conversation's and its holder's) hand each item on once; the
origin lets an instance recognise its own.

An event's payload is opaque here: the publisher's ``encode`` made it (with the
realtime adapter, the event's frames already encoded for the sockets and the ids
that route them, adapters/realtime/outbound.py), and the listener hands the same
bytes to its subscribers. Neither end of the bus decodes it into domain objects.

msgpack through msgspec, which the project already uses for the wire.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec

# The kind names are part of the format between instances of different versions
# during a rolling deploy: never rename one, only add. (Versions that sent domain
# events themselves named kinds after them; this one logs and skips those, and they
# would skip "event": upgrade every instance of a deployment together across that.)
EVENT = "event"  # an event's payload, as the publisher encoded it
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
    # The item stays bytes until its kind is known: msgspec cannot pick between
    # several dataclasses in a union by itself (and a payload is never decoded here).
    kind: str
    event_id: str
    origin: str
    item: bytes


@dataclass(frozen=True, slots=True)
class Received:
    """An item as it came out of Redis, with its envelope: an event's payload, or a notice."""

    event_id: str
    origin: str
    item: bytes | TypingNotice | ResyncNotice


class UndecodableEvent(ValueError):
    """Bytes that are not an envelope this version understands (logged and skipped)."""


_encoder = msgspec.msgpack.Encoder()
_envelope_decoder = msgspec.msgpack.Decoder(_Envelope)
_typing_decoder = msgspec.msgpack.Decoder(TypingNotice)
_resync_decoder = msgspec.msgpack.Decoder(ResyncNotice)


def new_event_id() -> str:
    return uuid.uuid4().hex


def encode(item: bytes | TypingNotice | ResyncNotice, *, event_id: str, origin: str) -> bytes:
    """``item``: an event's payload (bytes, sent as they are), or a notice."""
    if isinstance(item, bytes):
        kind, data = EVENT, item
    else:
        kind = TYPING if isinstance(item, TypingNotice) else RESYNC
        data = _encoder.encode(item)
    return _encoder.encode(_Envelope(kind, event_id, origin, data))


def decode(data: bytes) -> Received:
    try:
        envelope = _envelope_decoder.decode(data)
        item: bytes | TypingNotice | ResyncNotice
        if envelope.kind == EVENT:
            item = envelope.item
        elif envelope.kind == TYPING:
            item = _typing_decoder.decode(envelope.item)
        elif envelope.kind == RESYNC:
            item = _resync_decoder.decode(envelope.item)
        else:
            raise UndecodableEvent(f"unknown kind {envelope.kind!r}")
    except msgspec.DecodeError as error:
        raise UndecodableEvent(str(error)) from error
    return Received(envelope.event_id, envelope.origin, item)
