"""The REST contract's shapes, asserted: keys of each resource, the error envelope."""

from __future__ import annotations

import re
from typing import Any

import httpx

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
CONVERSATION_KEYS = {
    "id",
    "status",
    "customer",
    "assigned_agent",
    "created_at",
    "updated_at",
    "escalated_at",
    "closed_at",
    "last_seq",
}
MESSAGE_KEYS = {
    "id",
    "conversation_id",
    "seq",
    "sender",
    "body",
    "faq_slug",
    "client_message_id",
    "created_at",
}
AGENT_KEYS = {"id", "email", "display_name", "role", "presence", "active", "created_at"}


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's envelope and nothing else; ``fields`` only ever on a 400."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str), body
    assert error["message"], body
    assert set(error) <= {"code", "message", "fields"}, body
    if status != 400:
        assert "fields" not in error, body
    return error


def fields_of(response: httpx.Response) -> dict[str, str]:
    error = error_of(response, 400, "validation_error")
    assert "fields" in error, error
    fields: dict[str, str] = error["fields"]
    return fields


def assert_conversation(conversation: dict[str, Any]) -> None:
    assert set(conversation) == CONVERSATION_KEYS, conversation
    assert set(conversation["customer"]) == {"display_name", "email"}
    for key in ("created_at", "updated_at"):
        assert TIMESTAMP.match(conversation[key]), conversation[key]
    agent = conversation["assigned_agent"]
    if agent is not None:
        assert set(agent) == {"id", "display_name", "presence"}, agent


def assert_message(message: dict[str, Any]) -> None:
    assert set(message) == MESSAGE_KEYS, message
    assert set(message["sender"]) == {"type", "id", "display_name"}
    assert TIMESTAMP.match(message["created_at"]), message


def assert_agent(agent: dict[str, Any]) -> None:
    assert set(agent) == AGENT_KEYS, agent
    assert TIMESTAMP.match(agent["created_at"])
