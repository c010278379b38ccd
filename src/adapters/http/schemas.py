"""What clients send: request bodies and query strings as msgspec Structs.

The Meta constraints are the contract's validation limits. They do the checking
in ``decoding`` and they show in the OpenAPI document, so the two cannot drift.
The domain checks the same rules again; this layer only answers first, naming
every bad field at once.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from chatcore.agents import (
    DISPLAY_NAME_MAX_CHARS,
    EMAIL_MAX_CHARS,
    EMAIL_PATTERN,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
    Role,
)
from chatcore.bot import ANSWER_MAX_CHARS, QUESTION_MAX_CHARS, SLUG_MAX_CHARS, SLUG_PATTERN
from chatcore.conversation import Status
from chatcore.messages import BODY_MAX_CHARS
from chatcore.presence import PresenceStatus

# JSON Schema patterns are unanchored, like re.search: "has a non-space somewhere".
NOT_BLANK = r"\S"
_BLANK_PROBLEM = {"pattern_problem": "must not be only whitespace"}
# Beyond this an integer stops being exact in JavaScript; no seq gets near it.
MAX_SAFE_INTEGER = 2**53 - 1
POSITION_MAX = 1_000_000
# At login anything shaped like a credential is tried: the policy is not revealed there.
LOGIN_PASSWORD_MAX_CHARS = 1024


def _text(most: int, description: str) -> Meta:
    return Meta(
        min_length=1,
        max_length=most,
        pattern=NOT_BLANK,
        description=description,
        extra=_BLANK_PROBLEM,
    )


Body = Annotated[str, _text(BODY_MAX_CHARS, "Not only whitespace")]
DisplayName = Annotated[str, _text(DISPLAY_NAME_MAX_CHARS, "Shown to the other side")]
Question = Annotated[str, _text(QUESTION_MAX_CHARS, "The quick question as customers see it")]
Answer = Annotated[str, _text(ANSWER_MAX_CHARS, "What the bot answers")]
Email = Annotated[
    str,
    Meta(
        max_length=EMAIL_MAX_CHARS,
        pattern=EMAIL_PATTERN,
        extra={"pattern_problem": "must be a valid email address"},
    ),
]
Password = Annotated[str, Meta(min_length=PASSWORD_MIN_CHARS, max_length=PASSWORD_MAX_CHARS)]
AnyPassword = Annotated[str, Meta(min_length=1, max_length=LOGIN_PASSWORD_MAX_CHARS)]
Slug = Annotated[
    str,
    Meta(
        max_length=SLUG_MAX_CHARS,
        pattern=SLUG_PATTERN,
        extra={"pattern_problem": "must be lowercase letters and digits joined by single hyphens"},
    ),
]
Position = Annotated[int, Meta(ge=0, le=POSITION_MAX, description="Display order, ascending")]
ClientMessageId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        description="The client's idempotency key: the same key again stores nothing new",
    ),
]


class _Request(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class StartConversation(_Request):
    """Who the customer says they are; both optional."""

    display_name: DisplayName | None = None
    email: Email | None = None


class PostMessage(_Request):
    body: Body
    client_message_id: ClientMessageId | None = None


class Register(_Request):
    """A new agent. ``role`` is our addition; the very first agent is always an admin."""

    email: Email
    password: Password
    display_name: DisplayName
    role: Role = Role.AGENT


class Login(_Request):
    """Checked for shape only: a wrong pair is a 401, whatever the password policy."""

    email: Annotated[str, Meta(min_length=1, max_length=EMAIL_MAX_CHARS)]
    password: AnyPassword


class ChangePassword(_Request):
    current_password: AnyPassword
    new_password: Password


class SetPresence(_Request):
    presence: PresenceStatus


class CreateFaq(_Request):
    """A new quick question; without ``position`` it goes last."""

    slug: Slug
    question: Question
    answer: Answer
    position: Position | None = None


class UpdateFaq(_Request):
    """Any of the three; what is left out (or null) stays as it was."""

    question: Question | None = None
    answer: Answer | None = None
    position: Position | None = None


class MessagesQuery(_Request):
    after_seq: Annotated[
        int, Meta(ge=0, le=MAX_SAFE_INTEGER, description="Only messages with a greater seq")
    ] = 0
    limit: Annotated[int, Meta(ge=1, le=500)] = 100


class ListingQuery(_Request):
    status: Status | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    cursor: (
        Annotated[str, Meta(max_length=512, description="next_cursor of the previous page")] | None
    ) = None
