"""Messages: who sent them, what they say, and the rules every body obeys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatcore.errors import InvalidInput

BODY_MAX_CHARS = 4000


class SenderType(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Sender:
    type: SenderType
    id: str | None
    display_name: str


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    conversation_id: str
    seq: int
    sender: Sender
    body: str
    created_at: datetime
    faq_slug: str | None = None
    client_message_id: str | None = None
    # The customer message a bot answer replies to: lets an idempotent retry
    # return the same replies without storing new ones. Not on the wire.
    reply_to: str | None = None


def body_problem(body: str) -> str | None:
    """Why a message body is refused, or None when it is fine."""
    if not body:
        return "must not be empty"
    if len(body) > BODY_MAX_CHARS:
        return f"must be at most {BODY_MAX_CHARS} characters"
    if body.isspace():
        return "must not be only whitespace"
    return None


def check_body(body: str) -> None:
    problem = body_problem(body)
    if problem is not None:
        raise InvalidInput({"body": problem})
