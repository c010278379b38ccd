"""Client → server frames over a real socket: ping, subscribe, unsubscribe, and bad input.

A frame the server cannot use is answered with ``system.error`` ``bad_request`` and
the connection stays open (it still answers a ping); only a frame over 64 KiB ends
it, with 1009.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from support.http_contract import CONVERSATION_KEYS
from support.rest import Chat, Staff, first_admin, go_online, hire, start_conversation
from support.rest_async import escalate, rest, say
from support.servers import LiveServer
from support.ws import FAST, WsClient, agent_url, connect, customer_url, run

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def _scene(
    make_server: Callable[..., LiveServer],
) -> tuple[LiveServer, Staff, Staff, Staff, str, str]:
    """Admin, alice (online), bob; and one customer's AUTOMATED conversation."""
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        bob = hire(client, admin, display_name="Bob")
        go_online(client, alice)
        session, conversation = start_conversation(client)
    return server, admin, alice, bob, session, conversation["id"]


async def _error(client: WsClient, frame: Any, code: str) -> dict[str, Any]:
    await client.send(frame)
    error = await client.next_frame("system.error")
    assert set(error["data"]) == {"code", "message"}, error
    assert error["data"]["code"] == code, (frame, error)
    assert error["data"]["message"], error
    await client.ping()  # still open, still answering
    assert not client.closed
    return error


def test_ping_gets_a_pong_for_both_roles(make_server: Callable[..., LiveServer]) -> None:
    server, _, alice, _, session, conversation_id = _scene(make_server)

    async def scenario() -> None:
        async with (
            connect(customer_url(server.url, conversation_id, session)) as customer,
            connect(agent_url(server.url, alice.token)) as agent,
        ):
            for client in (customer, agent):
                await client.next_frame("system.connected")
                pong = await client.ping()
                assert pong["type"] == "system.pong"
                assert pong["conversation_id"] is None
                assert pong["data"] == {}
                second = await client.ping()
                assert second["_index"] > pong["_index"]

    run(scenario())


def test_subscribe_sends_the_snapshot_and_after_seq_trims_it(
    make_server: Callable[..., LiveServer],
) -> None:
    server, _, _, bob, session, conversation_id = _scene(make_server)

    async def scenario() -> None:
        async with rest(server.url) as http:
            await say(http, Chat(session, conversation_id), "Where is my order?")
        async with connect(agent_url(server.url, bob.token)) as agent:
            await agent.send({"type": "subscribe", "conversation_id": conversation_id})
            subscribed = await agent.next_frame("system.subscribed")
            assert subscribed["conversation_id"] == conversation_id
            data = subscribed["data"]
            assert set(data) == {"conversation", "messages", "has_more"}
            assert set(data["conversation"]) >= CONVERSATION_KEYS
            assert [m["seq"] for m in data["messages"]] == [1, 2, 3]
            assert data["has_more"] is False
            await agent.send(
                {"type": "subscribe", "conversation_id": conversation_id, "after_seq": 2}
            )
            again = await agent.next_frame("system.subscribed")
            assert [m["seq"] for m in again["data"]["messages"]] == [3]

    run(scenario())


def test_subscribe_errors_keep_the_connection_open(
    make_server: Callable[..., LiveServer],
) -> None:
    server, _, alice, bob, _, _ = _scene(make_server)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        held_session, held = start_conversation(client)

    async def scenario() -> None:
        async with rest(server.url) as http:
            await escalate(http, Chat(held_session, held["id"]))  # alice holds it
        async with connect(agent_url(server.url, bob.token)) as agent:
            await agent.next_frame("system.connected")
            await _error(agent, {"type": "subscribe", "conversation_id": UNKNOWN}, "not_found")
            await _error(agent, {"type": "subscribe", "conversation_id": "nope"}, "not_found")
            await _error(agent, {"type": "subscribe", "conversation_id": held["id"]}, "forbidden")
            await agent.expect_nothing_more("system.subscribed")
        async with connect(agent_url(server.url, alice.token)) as holder:
            await holder.send({"type": "subscribe", "conversation_id": held["id"]})
            await holder.next_frame("system.subscribed", conversation_id=held["id"])

    run(scenario())


def test_unsubscribe_stops_the_messages_of_that_conversation(
    make_server: Callable[..., LiveServer],
) -> None:
    server, admin, _, _, session, conversation_id = _scene(make_server)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, admin.token, conversation_id=conversation_id)) as agent,
        ):
            await agent.next_frame("system.subscribed")
            await say(http, Chat(session, conversation_id), "first question")
            first = await agent.take("message.created", 2, conversation_id=conversation_id)
            assert [f["data"]["seq"] for f in first] == [2, 3]
            await agent.next_frame("conversation.updated", conversation_id=conversation_id)

            await agent.send({"type": "unsubscribe", "conversation_id": conversation_id})
            unsubscribed = await agent.next_frame("system.unsubscribed")
            assert unsubscribed["data"] == {"conversation_id": conversation_id}

            await say(http, Chat(session, conversation_id), "second question")
            # Every agent still hears of an AUTOMATED conversation's updates ...
            updated = await agent.next_frame(
                "conversation.updated", conversation_id=conversation_id
            )
            assert updated["data"]["last_seq"] == 5
            # ... but no longer of its messages.
            await agent.expect_nothing_more("message.created")

    run(scenario())


BAD_FRAMES: list[tuple[str, Any]] = [
    ("malformed JSON", "{not json"),
    ("empty text", ""),
    ("a JSON array", json.dumps([{"type": "ping"}])),
    ("a JSON string", json.dumps("ping")),
    ("a JSON number", "42"),
    ("JSON null", "null"),
    ("no type", {"conversation_id": UNKNOWN}),
    ("unknown type", {"type": "dance"}),
    ("type not a string", {"type": 7}),
    ("subscribe without conversation_id", {"type": "subscribe"}),
    ("subscribe with a numeric id", {"type": "subscribe", "conversation_id": 5}),
    ("unsubscribe without conversation_id", {"type": "unsubscribe"}),
    ("typing without is_typing", {"type": "typing", "conversation_id": "{conversation}"}),
    (
        "typing with a string is_typing",
        {"type": "typing", "conversation_id": "{conversation}", "is_typing": "yes"},
    ),
    ("agent typing without conversation_id", {"type": "typing", "is_typing": True}),
    (
        "subscribe with after_seq=-1",
        {"type": "subscribe", "conversation_id": "{conversation}", "after_seq": -1},
    ),
    (
        "subscribe with after_seq='abc'",
        {"type": "subscribe", "conversation_id": "{conversation}", "after_seq": "abc"},
    ),
]


def _fill(frame: Any, conversation_id: str) -> Any:
    if isinstance(frame, dict):
        return {k: (conversation_id if v == "{conversation}" else v) for k, v in frame.items()}
    return frame


def test_bad_frames_from_an_agent_are_bad_request_and_the_socket_stays(
    make_server: Callable[..., LiveServer],
) -> None:
    server, _, alice, _, _, conversation_id = _scene(make_server)

    async def scenario() -> None:
        async with connect(agent_url(server.url, alice.token)) as agent:
            await agent.next_frame("system.connected")
            for _name, frame in BAD_FRAMES:
                await _error(agent, _fill(frame, conversation_id), "bad_request")
            await agent.expect_nothing_more("system.subscribed", "system.unsubscribed")

    run(scenario())


CUSTOMER_BAD_FRAMES: list[Any] = [
    "{not json",
    json.dumps([1, 2]),
    {"type": "dance"},
    {"type": "subscribe", "conversation_id": "{conversation}"},
    {"type": "unsubscribe", "conversation_id": "{conversation}"},
    {"type": "typing"},
    {"type": "typing", "is_typing": "yes"},
]


def test_bad_frames_from_a_customer_are_bad_request_and_the_socket_stays(
    make_server: Callable[..., LiveServer],
) -> None:
    server, _, _, _, session, conversation_id = _scene(make_server)

    async def scenario() -> None:
        async with connect(customer_url(server.url, conversation_id, session)) as customer:
            await customer.next_frame("system.subscribed")
            for frame in CUSTOMER_BAD_FRAMES:
                await _error(customer, _fill(frame, conversation_id), "bad_request")
            await customer.expect_nothing_more("system.subscribed", "system.unsubscribed")

    run(scenario())


@pytest.mark.parametrize("role", ["customer", "agent"])
def test_a_frame_over_64_kib_closes_with_1009(
    make_server: Callable[..., LiveServer], role: str
) -> None:
    server, _, alice, _, session, conversation_id = _scene(make_server)
    url = (
        customer_url(server.url, conversation_id, session)
        if role == "customer"
        else agent_url(server.url, alice.token)
    )

    async def scenario() -> None:
        async with connect(url) as client:
            await client.next_frame("system.connected")
            # Just under the limit: an ordinary bad frame, answered, socket kept.
            near = json.dumps({"type": "dance", "pad": "x" * (60 * 1024)})
            await _error(client, near, "bad_request")
            over = json.dumps({"type": "ping", "pad": "x" * (64 * 1024)})
            await client.send(over)
            assert await client.wait_closed() == 1009
            assert len(client.of_type("system.pong")) == 1  # the big ping got no answer

    run(scenario())
