"""Setting up the delivery generator's lanes: one per conversation, both ways.

Against chatcore: an admin and the agents registered and online, each agent on
one socket; then every conversation started by a customer, escalated to an
agent, and its customer's socket opened. With a second server (``agent_url``),
the agents' side is set up there and the customers' on ``url``. Against the
bare relay: one id per lane, the "agent" sockets following N/agents ids each, a
"customer" socket one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

if TYPE_CHECKING:  # the generator calls these with itself; no import cycle at run time
    from delivery_generator import Generator

PASSWORD = "bench-password-42"
SETUP_CONCURRENCY = 20


@dataclass
class Lane:
    """One conversation (or relay id) and how to post into it, both ways."""

    id: str
    agent_socket: int
    customer_socket: int
    customer_post: tuple[str, dict[str, str]] = ("", {})
    agent_post: tuple[str, dict[str, str]] = ("", {})


async def setup_relay(gen: Generator) -> None:
    n, agents, ws = gen.config["conversations"], gen.config["agents"], gen.config["ws_url"]
    ids = [f"relay-{k}" for k in range(n)]
    agent_sockets = []
    for a in range(agents):
        mine = ids[a::agents]
        agent_sockets.append(await gen.open_socket(f"{ws}/ws?{urlencode({'id': mine}, True)}", 0))
    for k, one in enumerate(ids):
        customer = await gen.open_socket(f"{ws}/ws?{urlencode({'id': one})}", 0)
        lane = Lane(id=one, agent_socket=agent_sockets[k % agents], customer_socket=customer)
        lane.customer_post = lane.agent_post = ("/post", {})
        gen.lanes.append(lane)


async def setup_chatcore(gen: Generator) -> None:
    n, agents, ws = gen.config["conversations"], gen.config["agents"], gen.config["ws_url"]
    agent_ws = gen.config.get("agent_ws_url") or ws
    client, agent_client = gen.client, gen.agent_client

    async def ok(response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
        return dict(response.json())

    async def login(email: str) -> str:
        body = {"email": email, "password": PASSWORD}
        answer = await ok(await agent_client.post("/api/v1/agent/auth/login", json=body))
        return str(answer["access_token"])

    admin = {"email": "admin@example.com", "password": PASSWORD, "display_name": "Admin"}
    await ok(await agent_client.post("/api/v1/agent/register", json=admin))
    admin_auth = {"Authorization": f"Bearer {await login(admin['email'])}"}
    by_agent: dict[str, tuple[int, dict[str, str]]] = {}
    for a in range(agents):
        email = f"agent{a}@example.com"
        person = {"email": email, "password": PASSWORD, "display_name": f"Agent {a}"}
        agent = await ok(
            await agent_client.post("/api/v1/agent/register", json=person, headers=admin_auth)
        )
        token = await login(email)
        auth = {"Authorization": f"Bearer {token}"}
        presence = {"presence": "online"}
        await ok(await agent_client.post("/api/v1/agent/presence", json=presence, headers=auth))
        query = urlencode({"role": "agent", "access_token": token})
        sock = await gen.open_socket(f"{agent_ws}/api/v1/realtime/ws?{query}", 1)
        by_agent[str(agent["id"])] = (sock, auth)

    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    lanes: list[Lane | None] = [None] * n

    async def conversation(k: int) -> None:
        async with gate:
            started = await ok(await client.post("/api/v1/customer/conversations/start"))
            cid = str(started["conversation"]["id"])
            session = {"X-Customer-Session-Id": str(started["customer_session_id"])}
            path = f"/api/v1/customer/conversations/{cid}"
            held = await ok(await client.post(f"{path}/escalate", headers=session))
            sock, auth = by_agent[str(held["assigned_agent"]["id"])]
            query = urlencode(
                {
                    "role": "customer",
                    "conversation_id": cid,
                    "customer_session_id": session["X-Customer-Session-Id"],
                }
            )
            customer = await gen.open_socket(f"{ws}/api/v1/realtime/ws?{query}", 2)
            lane = Lane(id=cid, agent_socket=sock, customer_socket=customer)
            lane.customer_post = (f"{path}/messages", session)
            lane.agent_post = (f"/api/v1/agent/conversations/{cid}/messages", auth)
            lanes[k] = lane

    await asyncio.gather(*(conversation(k) for k in range(n)))
    gen.lanes = [lane for lane in lanes if lane is not None]
