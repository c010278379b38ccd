"""Assertions and small scenes shared by the HTTP adapter tests (test_http_*.py)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from helpers import (
    Account,
    customer_headers,
    expect,
    go_online,
    register_admin,
    register_agent,
    start_conversation,
)
from starlette.types import ASGIApp

from servers import LiveServer

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
CUSTOMER = "/api/v1/customer"
AGENT = "/api/v1/agent"
ADMIN = "/api/v1/admin"


@contextmanager
def client_of(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


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


@dataclass
class Chat:
    """A customer's conversation: its session and id, and the customer's headers."""

    session_id: str
    id: str

    @property
    def headers(self) -> dict[str, str]:
        return customer_headers(self.session_id)

    @property
    def path(self) -> str:
        return f"{CUSTOMER}/conversations/{self.id}"

    @property
    def agent_path(self) -> str:
        return f"{AGENT}/conversations/{self.id}"


def new_chat(client: httpx.Client, **body: Any) -> Chat:
    session_id, conversation = start_conversation(client, **body)
    return Chat(session_id, conversation["id"])


def say(client: httpx.Client, chat: Chat, body: str, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = expect(
        client.post(f"{chat.path}/messages", json={"body": body, **extra}, headers=chat.headers),
        201,
    )
    return answer


def escalated_chat(client: httpx.Client) -> Chat:
    chat = new_chat(client)
    expect(client.post(f"{chat.path}/escalate", headers=chat.headers), 200)
    return chat


@dataclass
class Team:
    """An admin (offline) and one online agent: escalations go to the agent."""

    admin: Account
    agent: Account


def team(client: httpx.Client) -> Team:
    admin = register_admin(client)
    agent = register_agent(client, admin.token)
    go_online(client, agent.token)
    return Team(admin, agent)


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Any ASGI app on a real uvicorn at a loopback port: its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive(), "the server thread died while starting"
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        listener.close()
