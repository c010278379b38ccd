"""People's actions over the REST API, async: for realtime tests, whose REST calls must not
block the event loop their sockets read on.

The same verbs as support/rest.py and support/usecase_people.py, with the same meaning
(support/__init__.py lists them). Agents act by their token here: realtime tests hold
tokens, and a second login's token is as much the agent as the first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from support.rest import AGENT, CUSTOMER, Chat, bearer, expect


@asynccontextmanager
async def rest(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client


# -- customers --------------------------------------------------------------------------


async def start_conversation(http: httpx.AsyncClient, **body: Any) -> tuple[str, dict[str, Any]]:
    """What starting a chat answers: (session_id, the conversation as the customer sees it)."""
    started = expect(await http.post(f"{CUSTOMER}/conversations/start", json=body or None), 201)
    return str(started["customer_session_id"]), started["conversation"]


async def start_chat(http: httpx.AsyncClient, **body: Any) -> Chat:
    session, conversation = await start_conversation(http, **body)
    return Chat(session, str(conversation["id"]))


async def say(http: httpx.AsyncClient, chat: Chat, body: str) -> dict[str, Any]:
    """The customer says ``body`` in their chat: the posted answer (message, bot reply)."""
    answer: dict[str, Any] = expect(
        await http.post(f"{chat.path}/messages", json={"body": body}, headers=chat.headers), 201
    )
    return answer


async def escalate(http: httpx.AsyncClient, chat: Chat) -> dict[str, Any]:
    """The customer asks for a human: the conversation as it stands after."""
    answer: dict[str, Any] = expect(
        await http.post(f"{chat.path}/escalate", headers=chat.headers), 200
    )
    return answer


async def messages(http: httpx.AsyncClient, chat: Chat) -> list[dict[str, Any]]:
    """Every message of a chat, as its customer reads them."""
    items: list[dict[str, Any]] = []
    while True:
        page = expect(
            await http.get(
                f"{chat.path}/messages",
                params={"after_seq": items[-1]["seq"] if items else 0, "limit": 500},
                headers=chat.headers,
            ),
            200,
        )
        items.extend(page["items"])
        if not page["has_more"]:
            return items


# -- agents -----------------------------------------------------------------------------


async def agent_says(
    http: httpx.AsyncClient, token: str, conversation_id: str, body: str
) -> dict[str, Any]:
    """An agent says ``body`` in a conversation they hold: the stored message."""
    message: dict[str, Any] = expect(
        await http.post(
            f"{AGENT}/conversations/{conversation_id}/messages",
            json={"body": body},
            headers=bearer(token),
        ),
        201,
    )["message"]
    return message


async def close_chat(http: httpx.AsyncClient, token: str, conversation_id: str) -> Any:
    return expect(
        await http.post(f"{AGENT}/conversations/{conversation_id}/close", headers=bearer(token)),
        200,
    )


async def set_presence(http: httpx.AsyncClient, token: str, presence: str) -> Any:
    return expect(
        await http.post(f"{AGENT}/presence", json={"presence": presence}, headers=bearer(token)),
        200,
    )


async def me(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    agent: dict[str, Any] = expect(await http.get(f"{AGENT}/me", headers=bearer(token)), 200)
    return agent
