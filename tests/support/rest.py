"""People and their actions over the REST API, synchronously: the HTTP vocabulary.

The same verbs as support/usecase_people.py (the use cases) and support/rest_async.py,
with the same meaning (support/__init__.py lists them). Each call checks the status it
expects and says what came back when it differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx

from support.servers import LiveServer

PASSWORD = "correct horse battery staple"
CUSTOMER = "/api/v1/customer"
AGENT = "/api/v1/agent"
ADMIN = "/api/v1/admin"
_numbers = count(1)


@dataclass(frozen=True)
class Staff:
    """A registered, logged-in agent (or admin), as the REST API showed them."""

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


@dataclass(frozen=True)
class Chat:
    """A customer's conversation, as the customer knows it: their session and its id."""

    session_id: str
    conversation_id: str

    @property
    def headers(self) -> dict[str, str]:
        return customer_headers(self.session_id)

    @property
    def path(self) -> str:
        return f"{CUSTOMER}/conversations/{self.conversation_id}"

    @property
    def agent_path(self) -> str:
        return f"{AGENT}/conversations/{self.conversation_id}"


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


@contextmanager
def client_of(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


# -- staff ------------------------------------------------------------------------------


def new_token(client: httpx.Client, email: str, password: str = PASSWORD) -> str:
    """A fresh access token: one more login, one more session."""
    body = expect(
        client.post(f"{AGENT}/auth/login", json={"email": email, "password": password}), 200
    )
    return str(body["access_token"])


def first_admin(
    client: httpx.Client,
    *,
    email: str = "admin@example.com",
    password: str = PASSWORD,
    display_name: str = "Ada Admin",
) -> Staff:
    """The very first agent: registered without a token, an admin, then logged in."""
    body = {"email": email, "password": password, "display_name": display_name}
    agent = expect(client.post(f"{AGENT}/register", json=body), 201)
    assert agent["role"] == "admin", agent
    return Staff(agent, new_token(client, email, password), email, password)


def hire(
    client: httpx.Client,
    by: Staff,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
) -> Staff:
    """An agent registered by an admin (``by``), then logged in."""
    number = next(_numbers)
    email = email or f"agent{number}@example.com"
    body = {"email": email, "password": password, "display_name": display_name or f"Agent {number}"}
    agent = expect(client.post(f"{AGENT}/register", json=body, headers=by.headers), 201)
    return Staff(agent, new_token(client, email, password), email, password)


def go_online(client: httpx.Client, staff: Staff) -> dict[str, Any]:
    agent: dict[str, Any] = expect(
        client.post(f"{AGENT}/presence", json={"presence": "online"}, headers=staff.headers),
        200,
    )
    assert agent["presence"] == "online", agent
    return agent


@dataclass
class Team:
    """An admin (offline) and one online agent: escalations go to the agent."""

    admin: Staff
    agent: Staff


def team(client: httpx.Client) -> Team:
    admin = first_admin(client)
    agent = hire(client, admin)
    go_online(client, agent)
    return Team(admin, agent)


# -- customers --------------------------------------------------------------------------


def start_conversation(
    client: httpx.Client, *, session_id: str | None = None, **body: Any
) -> tuple[str, dict[str, Any]]:
    """What starting a chat answers: (session_id, the conversation as the customer sees it).

    A new session unless one is given.
    """
    headers = customer_headers(session_id) if session_id else {}
    started = expect(
        client.post(f"{CUSTOMER}/conversations/start", json=body or None, headers=headers), 201
    )
    return str(started["customer_session_id"]), started["conversation"]


def start_chat(client: httpx.Client, *, session_id: str | None = None, **body: Any) -> Chat:
    """A customer starts a chat (in a new session unless one is given)."""
    session, conversation = start_conversation(client, session_id=session_id, **body)
    return Chat(session, str(conversation["id"]))


def say(client: httpx.Client, chat: Chat, body: str, **extra: Any) -> dict[str, Any]:
    """The customer says ``body`` in their chat: the posted answer (message, bot reply)."""
    answer: dict[str, Any] = expect(
        client.post(f"{chat.path}/messages", json={"body": body, **extra}, headers=chat.headers),
        201,
    )
    return answer


def escalate(client: httpx.Client, chat: Chat) -> dict[str, Any]:
    """The customer asks for a human: the conversation as it stands after."""
    answer: dict[str, Any] = expect(client.post(f"{chat.path}/escalate", headers=chat.headers), 200)
    return answer


def escalated_chat(client: httpx.Client) -> Chat:
    chat = start_chat(client)
    escalate(client, chat)
    return chat


def messages(client: httpx.Client, chat: Chat) -> list[dict[str, Any]]:
    """Every message of a chat, as its customer reads them."""
    items: list[dict[str, Any]] = []
    while True:
        page = expect(
            client.get(
                f"{chat.path}/messages",
                params={"after_seq": items[-1]["seq"] if items else 0, "limit": 500},
                headers=chat.headers,
            ),
            200,
        )
        items.extend(page["items"])
        if not page["has_more"]:
            return items
