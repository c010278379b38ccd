"""The HTTP answers that wrap the contract's resources, and how they are encoded."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from starlette.responses import Response

from adapters.wire import (
    AgentOut,
    ConversationOut,
    ConversationWithLastMessage,
    FaqOut,
    MessageOut,
    QuickQuestionOut,
    message_out,
)
from chatcore.usecases import MessagePage, Posted


class QuickQuestionList(msgspec.Struct, frozen=True):
    items: list[QuickQuestionOut]


class Started(msgspec.Struct, frozen=True):
    customer_session_id: str
    conversation: ConversationOut
    messages: list[MessageOut]
    quick_questions: list[QuickQuestionOut]


class MessagePageOut(msgspec.Struct, frozen=True):
    items: list[MessageOut]
    has_more: bool


class PostedOut(msgspec.Struct, frozen=True):
    message: MessageOut
    replies: list[MessageOut]


class AgentPostedOut(msgspec.Struct, frozen=True):
    message: MessageOut


class ConversationPageOut(msgspec.Struct, frozen=True):
    items: list[ConversationWithLastMessage]
    next_cursor: str | None


class LoginOut(msgspec.Struct, frozen=True):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    agent: AgentOut


class FaqList(msgspec.Struct, frozen=True):
    items: list[FaqOut]


class AgentList(msgspec.Struct, frozen=True):
    items: list[AgentOut]


class StatusOk(msgspec.Struct, frozen=True):
    status: Literal["ok"] = "ok"


class SetupOut(msgspec.Struct, frozen=True):
    setup_needed: bool


def json(content: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(content), status, media_type="application/json")


def no_content() -> Response:
    return Response(status_code=204)


def message_page_out(page: MessagePage) -> MessagePageOut:
    return MessagePageOut([message_out(m) for m in page.items], page.has_more)


def posted_out(posted: Posted) -> PostedOut:
    return PostedOut(message_out(posted.message), [message_out(m) for m in posted.replies])


def created_or_retried(posted: Posted) -> int:
    """201 for a new message; 200 for a retry answered from what was stored."""
    return 201 if posted.created else 200
