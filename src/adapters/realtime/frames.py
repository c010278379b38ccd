"""What travels on the socket: the server's envelope and payloads, the client's frames."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from adapters.wire import AssignedAgentOut, timestamp

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_RATE_LIMITED = 4429  # kept on sending over the frame limit (docs/realtime.md)
CLOSE_TOO_SLOW = 1013
CLOSE_TRY_AGAIN = 1013  # missed events (a Redis outage): reconnect and resync by seq
CLOSE_GOING_AWAY = 1001


class Envelope(msgspec.Struct, frozen=True):
    type: str
    conversation_id: str | None
    data: Any
    sent_at: str


class Connected(msgspec.Struct, frozen=True):
    role: str
    agent_id: str | None
    heartbeat_seconds: int


class Subscribed(msgspec.Struct, frozen=True):
    conversation: Any  # ConversationOut, or with last_message for agents
    messages: list[Any]
    has_more: bool


class ErrorData(msgspec.Struct, frozen=True):
    code: str
    message: str


class ConversationRef(msgspec.Struct, frozen=True):
    conversation_id: str


class Pong(msgspec.Struct, frozen=True):
    pass


class AgentAssignedData(msgspec.Struct, frozen=True):
    conversation_id: str
    agent: AssignedAgentOut


class ClosedBy(msgspec.Struct, frozen=True):
    id: str
    display_name: str


class ChatClosedData(msgspec.Struct, frozen=True):
    conversation_id: str
    closed_by: ClosedBy
    closed_at: str


class PresenceData(msgspec.Struct, frozen=True):
    agent_id: str
    display_name: str
    presence: str


class AgentTypingData(msgspec.Struct, frozen=True):
    agent_id: str
    display_name: str
    is_typing: bool


class CustomerTypingData(msgspec.Struct, frozen=True):
    is_typing: bool


_encoder = msgspec.json.Encoder()


def encode(kind: str, data: Any, *, now: datetime, conversation_id: str | None = None) -> str:
    """One server frame as text: encoded once, sent to as many sockets as need it."""
    envelope = Envelope(kind, conversation_id, data, timestamp(now))
    return _encoder.encode(envelope).decode()


# Client → server. Unknown extra fields are ignored; a wrong type or a missing field is a
# bad_request, and so is any "type" not listed here.

# As over REST (MessagesQuery): past 2**53 - 1 no seq exists, and storage takes no bigger.
MAX_SEQ = 2**53 - 1
SeqFrom = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]


class Subscribe(msgspec.Struct, frozen=True, tag="subscribe", tag_field="type"):
    conversation_id: str
    after_seq: SeqFrom = 0


class Unsubscribe(msgspec.Struct, frozen=True, tag="unsubscribe", tag_field="type"):
    conversation_id: str


class Typing(msgspec.Struct, frozen=True, tag="typing", tag_field="type"):
    is_typing: bool
    conversation_id: str | None = None


class Ping(msgspec.Struct, frozen=True, tag="ping", tag_field="type"):
    pass


ClientFrame = Subscribe | Unsubscribe | Typing | Ping
_decoder = msgspec.json.Decoder(ClientFrame)


class BadFrame(Exception):
    pass


def decode_client_frame(text: str) -> ClientFrame:
    try:
        frame: ClientFrame = _decoder.decode(text)
    except msgspec.DecodeError as error:
        raise BadFrame(_explain(error)) from None
    except RecursionError:  # thousands of nested arrays in an ignored field (found by fuzzing)
        raise BadFrame("The frame is nested too deeply.") from None
    except UnicodeError:  # a lone surrogate, should a server ever pass one on
        raise BadFrame("The frame is not valid UTF-8.") from None
    return frame


def _explain(error: msgspec.DecodeError) -> str:
    text = str(error)
    if text.startswith("JSON is malformed") or "truncated" in text:
        return "The frame is not valid JSON."
    if "Invalid value" in text and "$.type" in text:
        return "Unknown frame type; expected subscribe, unsubscribe, typing or ping."
    return f"The frame is not valid: {text}."
