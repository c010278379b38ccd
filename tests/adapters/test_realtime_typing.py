"""Typing indicators clear themselves: on silence, when the typist's socket goes, on a post.

A ``typing`` true not refreshed for typing_timeout_seconds is followed by the same
event with ``is_typing`` false, sent by nobody; the same happens at once when the
typist's connection closes or the typist posts a message. The drop and post cases
run with a long timeout, so only the drop or the post can explain the false.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from support.rest import (
    Chat,
    Staff,
    customer_headers,
    first_admin,
    go_online,
    hire,
    start_conversation,
)
from support.rest_async import agent_says, rest, say
from support.servers import LiveServer
from support.ws import FAST, WsClient, agent_url, connect, customer_url, run


def _held_chat(
    make_server: Callable[..., LiveServer], **settings: Any
) -> tuple[LiveServer, Staff, str, str]:
    server = make_server(**{**FAST, **settings})
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        go_online(client, alice)
        session, conversation = start_conversation(client)
        x = conversation["id"]
        answer = client.post(
            f"/api/v1/customer/conversations/{x}/escalate", headers=customer_headers(session)
        )
        assert answer.json()["assigned_agent"]["id"] == alice.id
    return server, alice, session, x


@asynccontextmanager
async def _both_sides(
    server: LiveServer, alice: Staff, session: str, x: str
) -> AsyncIterator[tuple[WsClient, WsClient]]:
    """The customer's socket (after its snapshot) and Alice's (after its greeting)."""
    async with (
        connect(customer_url(server.url, x, session), name="customer") as customer,
        connect(agent_url(server.url, alice.token), name="alice") as agent,
    ):
        await customer.next_frame("system.subscribed")
        await agent.next_frame("system.connected")
        yield customer, agent


def test_typing_not_refreshed_clears_itself(make_server: Callable[..., LiveServer]) -> None:
    server, alice, session, x = _held_chat(make_server, typing_timeout_seconds=1)

    async def scenario() -> None:
        async with _both_sides(server, alice, session, x) as (customer, agent):
            await agent.send({"type": "typing", "conversation_id": x, "is_typing": True})
            started = await customer.next_frame("agent.typing", conversation_id=x)
            assert started["data"]["is_typing"] is True
            stopped = await customer.next_frame("agent.typing", conversation_id=x)
            assert stopped["data"] == {
                "agent_id": alice.id,
                "display_name": "Alice",
                "is_typing": False,
            }

            await customer.send({"type": "typing", "is_typing": True})
            started = await agent.next_frame("customer.typing", conversation_id=x)
            assert started["data"] == {"is_typing": True}
            stopped = await agent.next_frame("customer.typing", conversation_id=x)
            assert stopped["data"] == {"is_typing": False}

            # Once cleared, it stays cleared: no second false.
            await customer.expect_nothing_more("agent.typing")
            await agent.expect_nothing_more("customer.typing")

    run(scenario())


def test_the_typists_connection_closing_clears_its_typing(
    make_server: Callable[..., LiveServer],
) -> None:
    server, alice, session, x = _held_chat(make_server, typing_timeout_seconds=600)

    async def scenario() -> None:
        async with _both_sides(server, alice, session, x) as (customer, agent):
            async with connect(agent_url(server.url, alice.token), name="alice 2") as typist:
                await typist.next_frame("system.connected")
                await typist.send({"type": "typing", "conversation_id": x, "is_typing": True})
                started = await customer.next_frame("agent.typing", conversation_id=x)
                assert started["data"]["is_typing"] is True
            stopped = await customer.next_frame("agent.typing", conversation_id=x)
            assert stopped["data"]["is_typing"] is False
            assert stopped["data"]["agent_id"] == alice.id

            url = customer_url(server.url, x, session)
            async with connect(url, name="customer tab 2") as tab:
                await tab.next_frame("system.subscribed")
                await tab.send({"type": "typing", "is_typing": True})
                started = await agent.next_frame("customer.typing", conversation_id=x)
                assert started["data"] == {"is_typing": True}
            stopped = await agent.next_frame("customer.typing", conversation_id=x)
            assert stopped["data"] == {"is_typing": False}

    run(scenario())


def test_posting_a_message_clears_the_typists_typing(
    make_server: Callable[..., LiveServer],
) -> None:
    server, alice, session, x = _held_chat(make_server, typing_timeout_seconds=600)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            _both_sides(server, alice, session, x) as (customer, agent),
        ):
            await agent.send({"type": "typing", "conversation_id": x, "is_typing": True})
            assert (await customer.next_frame("agent.typing"))["data"]["is_typing"] is True
            await agent_says(http, alice.token, x, "Here you go")
            await customer.next_frame("message.created", conversation_id=x)
            stopped = await customer.next_frame("agent.typing", conversation_id=x)
            assert stopped["data"]["is_typing"] is False

            await customer.send({"type": "typing", "is_typing": True})
            assert (await agent.next_frame("customer.typing"))["data"]["is_typing"] is True
            await say(http, Chat(session, x), "Thanks!")
            await agent.next_frame("message.created", conversation_id=x)
            stopped = await agent.next_frame("customer.typing", conversation_id=x)
            assert stopped["data"] == {"is_typing": False}

    run(scenario())
