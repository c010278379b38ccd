"""Races against a real server: many escalations at once, over real sockets.

Setup goes through a plain client; the race itself is one asyncio.gather of
httpx.AsyncClient calls, so the requests really are in flight together.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from chatcore.events import AgentAssigned
from support.rest import (
    Chat,
    customer_headers,
    expect,
    first_admin,
    go_online,
    hire,
    messages,
    start_conversation,
)
from support.servers import LiveServer

ESCALATE = "/api/v1/customer/conversations/{}/escalate"


async def _escalate_all(url: str, calls: list[tuple[str, str]]) -> list[httpx.Response]:
    """POST every (conversation_id, session_id) escalation at once."""
    limits = httpx.Limits(max_connections=len(calls))
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(ESCALATE.format(conversation_id), headers=customer_headers(session))
                for conversation_id, session in calls
            )
        )


def test_fifty_escalations_of_one_conversation_assign_it_once(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(rate_limits=False)
    with httpx.Client(base_url=server.url) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        bob = hire(client, admin, display_name="Bob")
        go_online(client, alice)
        go_online(client, bob)
        session, conversation = start_conversation(client)

    responses = asyncio.run(_escalate_all(server.url, [(conversation["id"], session)] * 50))

    bodies = [expect(response, 200) for response in responses]
    assigned = {body["assigned_agent"]["id"] for body in bodies}
    assert len(assigned) == 1
    assert assigned <= {alice.id, bob.id}
    assert {body["status"] for body in bodies} == {"agent"}
    with httpx.Client(base_url=server.url) as client:
        stored = messages(client, Chat(session, conversation["id"]))
    joined = [m for m in stored if m["sender"]["type"] == "system" and "joined" in m["body"]]
    assert len(joined) == 1
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    assignments = server.events_of(AgentAssigned)
    assert [(e.conversation_id, e.agent.id) for e in assignments] == [
        (conversation["id"], assigned.pop())
    ]


def test_concurrent_escalations_never_exceed_capacity(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(rate_limits=False, agent_capacity=2)
    with httpx.Client(base_url=server.url) as client:
        admin = first_admin(client)  # stays offline: never a candidate
        agents = [hire(client, admin) for _ in range(3)]
        for agent in agents:
            go_online(client, agent)
        calls = [start_conversation(client) for _ in range(30)]

    responses = asyncio.run(
        _escalate_all(
            server.url, [(conversation["id"], session) for session, conversation in calls]
        )
    )

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {200: 6, 409: 24}
    refusals = {r.json()["error"]["code"] for r in responses if r.status_code == 409}
    assert refusals == {"no_agent_available"}
    winners = Counter(r.json()["assigned_agent"]["id"] for r in responses if r.status_code == 200)
    assert winners == {agent.id: 2 for agent in agents}

    with httpx.Client(base_url=server.url) as client:
        listing = expect(
            client.get(
                "/api/v1/agent/conversations",
                params={"status": "agent", "limit": 50},
                headers=admin.headers,
            ),
            200,
        )
    held = Counter(item["assigned_agent"]["id"] for item in listing["items"])
    assert held == {agent.id: 2 for agent in agents}
    events: list[Any] = server.events_of(AgentAssigned)
    assert Counter(event.agent.id for event in events) == {agent.id: 2 for agent in agents}
    assert len({event.conversation_id for event in events}) == 6
