"""Presence follows connections: the grace rule, several connections, and the heartbeat.

An agent whose last connection has been gone for the grace period (1 s here) goes
offline, with ``agent.presence.changed`` to every agent; reconnecting restores what
it chose. An agent that never connected keeps what it set over REST. A peer that
stops answering the server's pings is dropped, which counts as a close.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import httpx

from support.rest import first_admin, go_online, hire
from support.rest_async import me, rest
from support.servers import LiveServer
from support.ws import FAST, WsClient, agent_url, connect, run
from support.ws_raw import raw_handshake, read_raw_frames

GRACE = FAST["presence_grace_seconds"]


async def _presence_of(observer: WsClient, agent_id: str) -> str:
    frame = await observer.next_frame(
        "agent.presence.changed", where=lambda f: f["data"]["agent_id"] == agent_id
    )
    assert frame["conversation_id"] is None, frame
    presence: str = frame["data"]["presence"]
    return presence


def test_the_last_connection_gone_past_the_grace_is_offline_and_a_reconnect_restores(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        go_online(client, alice)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, admin.token), name="admin") as observer,
        ):
            await observer.next_frame("system.connected")
            async with connect(agent_url(server.url, alice.token), name="alice") as agent:
                await agent.next_frame("system.connected")
                await observer.expect_nothing_more("agent.presence.changed")  # still online
            assert await _presence_of(observer, alice.id) == "offline"
            assert (await me(http, alice.token))["presence"] == "offline"

            async with connect(agent_url(server.url, alice.token), name="alice again") as agent:
                await agent.next_frame("system.connected")
                assert await _presence_of(observer, alice.id) == "online"
                assert (await me(http, alice.token))["presence"] == "online"
                # The agent's own connections hear of it too (every agent does).
                assert await _presence_of(agent, alice.id) == "online"
            assert await _presence_of(observer, alice.id) == "offline"

    run(scenario())


def test_one_of_two_connections_closing_keeps_online_and_rest_only_agents_keep_theirs(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        bob = hire(client, admin, display_name="Bob")  # never connects
        go_online(client, alice)
        go_online(client, bob)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, admin.token), name="admin") as observer,
            connect(agent_url(server.url, alice.token), name="alice 1") as first,
        ):
            await observer.next_frame("system.connected")
            await first.next_frame("system.connected")
            async with connect(agent_url(server.url, alice.token), name="alice 2") as second:
                await second.next_frame("system.connected")
            # Waiting past the grace is the point here; what is asserted is state.
            await asyncio.sleep(GRACE + 2.5)
            await observer.expect_nothing_more("agent.presence.changed")
            assert (await me(http, alice.token))["presence"] == "online"
            assert (await me(http, bob.token))["presence"] == "online"
            await first.close()
            assert await _presence_of(observer, alice.id) == "offline"
            assert (await me(http, bob.token))["presence"] == "online"
            await observer.expect_nothing_more(
                "agent.presence.changed", where=lambda f: f["data"]["agent_id"] == bob.id
            )

    run(scenario())


def test_a_silent_peer_is_dropped_by_the_heartbeat_then_offline_after_the_grace(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**{**FAST, "heartbeat_seconds": 1})
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        go_online(client, alice)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, admin.token), name="admin") as observer,
        ):
            await observer.next_frame("system.connected")
            # Completes the upgrade by hand, then never reads: no pong ever goes back.
            silent = await asyncio.to_thread(raw_handshake, agent_url(server.url, alice.token))
            try:
                assert await _presence_of(observer, alice.id) == "offline"
                assert (await me(http, alice.token))["presence"] == "offline"
                frames, code = await asyncio.to_thread(read_raw_frames, silent)
            finally:
                with contextlib.suppress(OSError):
                    silent.close()
            assert frames, "the silent client got no frame at all"
            assert frames[0]["type"] == "system.connected", frames
            assert frames[0]["data"]["heartbeat_seconds"] == 1
            assert code is None or code >= 1000, code  # a close frame or a plain hang-up
            # The observer answers pings (websockets does): several heartbeats later, still in.
            await observer.ping()
            assert not observer.closed

    run(scenario())
