"""Small HTTP helpers for adapter tests: accounts, presence, and a customer's first steps.

Each one checks the status it expects and says what came back when it differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
_numbers = count(1)


@dataclass(frozen=True)
class Account:
    """A registered, logged-in agent."""

    agent: dict[str, Any]
    token: str
    email: str
    password: str

    @property
    def id(self) -> str:
        return str(self.agent["id"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def customer_headers(session_id: str) -> dict[str, str]:
    return {"X-Customer-Session-Id": session_id}


def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url.path}: "
        f"{response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    body = expect(
        client.post("/api/v1/agent/auth/login", json={"email": email, "password": password}), 200
    )
    return str(body["access_token"])


def register_admin(
    client: httpx.Client,
    *,
    email: str = "admin@example.com",
    password: str = PASSWORD,
    display_name: str = "Ada Admin",
) -> Account:
    """The very first agent: registered without a token, an admin, then logged in."""
    body = {"email": email, "password": password, "display_name": display_name}
    agent = expect(client.post("/api/v1/agent/register", json=body), 201)
    assert agent["role"] == "admin", agent
    return Account(agent, login(client, email, password), email, password)


def register_agent(
    client: httpx.Client,
    admin_token: str,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> Account:
    number = next(_numbers)
    email = email or f"agent{number}@example.com"
    body = {"email": email, "password": password, "display_name": display_name or f"Agent {number}"}
    agent = expect(
        client.post("/api/v1/agent/register", json=body, headers=bearer(admin_token)), 201
    )
    return Account(agent, login(client, email, password), email, password)


def go_online(client: httpx.Client, token: str) -> dict[str, Any]:
    agent: dict[str, Any] = expect(
        client.post("/api/v1/agent/presence", json={"presence": "online"}, headers=bearer(token)),
        200,
    )
    assert agent["presence"] == "online", agent
    return agent


def start_conversation(
    client: httpx.Client, *, session_id: str | None = None, **body: Any
) -> tuple[str, dict[str, Any]]:
    """A new conversation (and session, unless one is given): (session_id, conversation)."""
    headers = customer_headers(session_id) if session_id else {}
    started = expect(
        client.post("/api/v1/customer/conversations/start", json=body or None, headers=headers),
        201,
    )
    return str(started["customer_session_id"]), started["conversation"]


def messages(client: httpx.Client, session_id: str, conversation_id: str) -> list[dict[str, Any]]:
    """Every message of a conversation, as its customer reads them."""
    items: list[dict[str, Any]] = []
    while True:
        page = expect(
            client.get(
                f"/api/v1/customer/conversations/{conversation_id}/messages",
                params={"after_seq": items[-1]["seq"] if items else 0, "limit": 500},
                headers=customer_headers(session_id),
            ),
            200,
        )
        items.extend(page["items"])
        if not page["has_more"]:
            return items
