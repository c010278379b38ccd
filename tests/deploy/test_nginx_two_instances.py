"""Two chatcore instances behind the shipped nginx: a customer and an agent whose
sockets nginx put on different instances still hear each other.

nginx spreads connections round-robin; which instance took a socket is read from
each instance's own log (uvicorn logs every accepted socket). PostgreSQL and Redis
are required, as for tests/adapters/test_two_instances.py, whose servers these are.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import httpx

from support.nginx import nginx_in_front_of
from support.redis_server import REDIS_URL, require_redis
from support.rest import Chat, first_admin, go_online, start_conversation
from support.rest_async import escalate, rest, say
from support.serve_process import Instance, two_instances, wait_ready
from support.ws import WsClient, agent_url, connect, customer_url, run

ACCEPTED = "/api/v1/realtime/ws"
TRIES = 6  # round-robin over two: the second try already lands on the other one


def sockets_on(instance: Instance) -> int:
    return instance.log.read_text(errors="replace").count(ACCEPTED)


def test_customer_and_agent_on_different_instances_through_nginx(tmp_path: Path) -> None:
    require_redis(REDIS_URL)
    with two_instances() as (a, b):
        wait_ready(a.url, 200)
        wait_ready(b.url, 200)
        scratch = tmp_path / "nginx"
        scratch.mkdir()
        with nginx_in_front_of([a.url, b.url], scratch) as proxy:
            with httpx.Client(base_url=proxy.url, timeout=30) as http:
                admin = first_admin(http)
                go_online(http, admin)
                session, conversation = start_conversation(http)
            run(_across(proxy.url, (a, b), admin.token, session, conversation["id"]), within=90)


async def _across(
    proxy: str, instances: tuple[Instance, Instance], token: str, session: str, chat: str
) -> None:
    async with AsyncExitStack() as stack:
        before = [sockets_on(i) for i in instances]
        agent = await stack.enter_async_context(connect(agent_url(proxy, token), name="agent"))
        await agent.next_frame("system.connected")
        agent_on = [sockets_on(i) - n for i, n in zip(instances, before, strict=True)].index(1)
        customer = await _customer_elsewhere(stack, proxy, instances, agent_on, session, chat)
        async with rest(proxy) as http:
            await escalate(http, Chat(session, chat))
            for client in (customer, agent):
                await client.next_frame("agent.assigned", conversation_id=chat)
            said = await say(http, Chat(session, chat), "where is my order?")
        seq = said["message"]["seq"]
        heard = await agent.next_frame(
            "message.created", conversation_id=chat, where=lambda f: f["data"]["seq"] == seq
        )
        assert heard["data"]["body"] == "where is my order?"


async def _customer_elsewhere(
    stack: AsyncExitStack,
    proxy: str,
    instances: tuple[Instance, Instance],
    agent_on: int,
    session: str,
    chat: str,
) -> WsClient:
    """Customer sockets through nginx until one lands on the instance the agent is not on."""
    for _ in range(TRIES):
        before = [sockets_on(i) for i in instances]
        client = await stack.enter_async_context(
            connect(customer_url(proxy, chat, session), name="customer")
        )
        await client.next_frame("system.subscribed")
        landed = [sockets_on(i) - n for i, n in zip(instances, before, strict=True)].index(1)
        if landed != agent_on:
            return client
    raise AssertionError(f"nginx put {TRIES} customer sockets on the agent's instance")
