"""The inbound frame limit per WebSocket connection, over real sockets.

Over the limit a frame is dropped and the first of a run is answered with
``system.error`` ``rate_limited``; a client that keeps flooding is closed with 4429;
one that stays under the limit never hears of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from adapters.ratelimit import Limit, Limits
from support.rest import start_conversation
from support.servers import LiveServer
from support.ws import FAST, connect, customer_url, run

CLOSE_RATE_LIMITED = 4429


def _customer(make_server: Callable[..., LiveServer], frames: Limit) -> str:
    """A server with this frame limit, and the socket URL of one customer's chat."""
    server = make_server(**{**FAST, "rate_limits": True}, limits=Limits(socket_frames=frames))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    return customer_url(server.url, conversation["id"], session)


def test_a_flood_is_refused_then_closed_with_4429(make_server: Callable[..., LiveServer]) -> None:
    url = _customer(make_server, Limit("frames", 5, 60.0))  # one back every 12 s

    async def scenario() -> None:
        async with connect(url) as customer:
            await customer.next_frame("system.subscribed")
            for _ in range(30):
                await customer.send({"type": "ping"})
            assert await customer.wait_closed() == CLOSE_RATE_LIMITED
            pongs = customer.of_type("system.pong")
            errors = customer.of_type("system.error")
            assert len(pongs) == 5, customer.types()
            # One error at the first dropped frame, the last words at the close; the
            # frames dropped in between were not answered.
            assert [e["data"]["code"] for e in errors] == ["rate_limited", "rate_limited"]
            assert customer.types()[-1] == "system.error"

    run(scenario())


def test_a_burst_over_the_limit_is_forgiven_and_the_socket_lives_on(
    make_server: Callable[..., LiveServer],
) -> None:
    url = _customer(make_server, Limit("frames", 5, 1.0))  # one back every 0.2 s

    async def scenario() -> None:
        async with connect(url) as customer:
            await customer.next_frame("system.subscribed")
            for _ in range(8):
                await customer.send({"type": "typing", "is_typing": True})
            error = await customer.next_frame("system.error")
            assert error["data"]["code"] == "rate_limited"
            assert "Try again in 1 s" in error["data"]["message"]
            await asyncio.sleep(1.1)  # calm: the whole burst is back
            for _ in range(4):
                await customer.ping()
            await customer.expect_nothing_more("system.error")  # its ping is the 5th
            assert not customer.closed

    run(scenario())


def test_a_client_at_a_normal_rate_never_hears_of_the_limit(
    make_server: Callable[..., LiveServer],
) -> None:
    # One back every 0.1 s, and a burst of 10: a busy machine may bunch a few frames.
    url = _customer(make_server, Limit("frames", 10, 1.0))

    async def scenario() -> None:
        async with connect(url) as customer:
            await customer.next_frame("system.subscribed")
            for n in range(15):
                await customer.send({"type": "typing", "is_typing": n % 2 == 0})
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)
            await customer.expect_nothing_more("system.error")
            assert not customer.closed

    run(scenario())


def test_without_rate_limits_frames_are_not_counted(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST, limits=Limits(socket_frames=Limit("frames", 1, 60.0)))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    url = customer_url(server.url, conversation["id"], session)

    async def scenario() -> None:
        async with connect(url) as customer:
            await customer.next_frame("system.subscribed")
            for _ in range(50):
                await customer.send({"type": "ping"})
            await customer.take("system.pong", 50)
            assert not customer.of_type("system.error")

    run(scenario())
