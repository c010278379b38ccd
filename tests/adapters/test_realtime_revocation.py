"""Dead tokens close their sockets with 4401: logout, password change, deactivation, expiry.

The contract gives the server 5 s to notice; each wait here is bounded by that.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from support.rest import PASSWORD, bearer, expect, first_admin, go_online, hire, new_token
from support.rest_async import rest
from support.servers import LiveServer
from support.ws import FAST, agent_url, connect, run

REVOKED_WITHIN = 5.0


def test_logout_closes_that_tokens_socket_only(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin)
        other = new_token(client, alice.email)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, alice.token), name="logged out") as gone,
            connect(agent_url(server.url, other), name="other token") as kept,
        ):
            await gone.next_frame("system.connected")
            await kept.next_frame("system.connected")
            expect(await http.post("/api/v1/agent/auth/logout", headers=bearer(alice.token)), 204)
            assert await gone.wait_closed(within=REVOKED_WITHIN) == 4401
            await kept.ping()
            assert not kept.closed

    run(scenario())


def test_a_password_change_closes_every_other_tokens_socket(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin)
        second = new_token(client, alice.email)
        third = new_token(client, alice.email)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, alice.token), name="caller") as caller,
            connect(agent_url(server.url, alice.token), name="caller, tab 2") as caller_2,
            connect(agent_url(server.url, second), name="second") as second_socket,
            connect(agent_url(server.url, third), name="third") as third_socket,
            connect(agent_url(server.url, admin.token), name="admin") as bystander,
        ):
            for client in (caller, caller_2, second_socket, third_socket, bystander):
                await client.next_frame("system.connected")
            body = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
            expect(await http.post("/api/v1/agent/password", json=body, headers=alice.headers), 204)
            assert await second_socket.wait_closed(within=REVOKED_WITHIN) == 4401
            assert await third_socket.wait_closed(within=REVOKED_WITHIN) == 4401
            for client in (caller, caller_2, bystander):
                await client.ping()
                assert not client.closed
            expect(await http.get("/api/v1/agent/me", headers=bearer(second)), 401)
            expect(await http.get("/api/v1/agent/me", headers=alice.headers), 200)

    run(scenario())


def test_deactivation_closes_all_the_agents_sockets(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin)
        go_online(client, alice)
        other = new_token(client, alice.email)

    async def scenario() -> None:
        async with (
            rest(server.url) as http,
            connect(agent_url(server.url, alice.token), name="alice 1") as first,
            connect(agent_url(server.url, other), name="alice 2") as second,
            connect(agent_url(server.url, admin.token), name="admin") as bystander,
        ):
            for client in (first, second, bystander):
                await client.next_frame("system.connected")
            expect(
                await http.post(
                    f"/api/v1/admin/agents/{alice.id}/deactivate", headers=admin.headers
                ),
                200,
            )
            assert await first.wait_closed(within=REVOKED_WITHIN) == 4401
            assert await second.wait_closed(within=REVOKED_WITHIN) == 4401
            await bystander.ping()
            assert not bystander.closed

    run(scenario())


def test_an_expired_token_closes_its_socket(make_server: Callable[..., LiveServer]) -> None:
    ttl = 2
    server = make_server(**FAST, token_ttl_seconds=ttl)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)

    async def scenario() -> None:
        async with connect(agent_url(server.url, admin.token), name="admin") as agent:
            await agent.next_frame("system.connected")  # valid when it connected
            assert await agent.wait_closed(within=ttl + REVOKED_WITHIN) == 4401

    run(scenario())
