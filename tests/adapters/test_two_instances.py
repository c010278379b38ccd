"""Two real ``chatcore serve`` processes, one PostgreSQL database, one Redis.

A customer on instance A and an agent on instance B hear each other through the
Redis bus: the assignment, messages both ways with dense ``seq``, typing, the
agent's presence, the close; and a hundred escalations of one conversation spread
over both instances assign it once. Then losing Redis: /readyz answers 503, and
when Redis is back the sockets are closed with 1013 so their clients resync.

PostgreSQL and Redis are required: unreachable, these tests fail rather than skip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from support.redis_server import REDIS_URL, OwnRedis, require_redis
from support.rest import Chat, customer_headers, expect, first_admin, go_online, start_conversation
from support.rest_async import agent_says, close_chat, escalate, rest, say, set_presence
from support.serve_process import Instance, two_instances, wait_ready
from support.ws import Frame, agent_url, connect, customer_url, run


def test_a_customer_on_one_instance_and_an_agent_on_the_other_hear_each_other() -> None:
    require_redis(REDIS_URL)
    with two_instances() as (a, b):
        wait_ready(a.url, 200)
        wait_ready(b.url, 200)
        with httpx.Client(base_url=b.url, timeout=30) as http_b:
            admin = first_admin(http_b)
            go_online(http_b, admin)
        with httpx.Client(base_url=a.url, timeout=30) as http_a:
            session, conversation = start_conversation(http_a)
        chat = conversation["id"]
        try:
            run(_conversation_across(a, b, admin.token, admin.id, session, chat), within=120)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\nA: {a.tail()}\nB: {b.tail()}") from None


async def _conversation_across(
    a: Instance, b: Instance, token: str, agent_id: str, session: str, chat: str
) -> None:
    async with (
        rest(a.url) as http_a,
        rest(b.url) as http_b,
        connect(customer_url(a.url, chat, session), name="customer@A") as customer,
        connect(agent_url(b.url, token), name="agent@B") as agent,
    ):
        snapshot = await customer.next_frame("system.subscribed")
        seqs = [m["seq"] for m in snapshot["data"]["messages"]]
        await agent.next_frame("system.connected")

        # Escalated on A: assigned and "joined" on both sides.
        await escalate(http_a, Chat(session, chat))
        for client in (customer, agent):
            assigned = await client.next_frame("agent.assigned", conversation_id=chat)
            assert assigned["data"]["agent"]["id"] == agent_id
            joined = await client.next_frame(
                "message.created",
                conversation_id=chat,
                where=lambda f: f["data"]["sender"]["type"] == "system",
            )
            assert "joined" in joined["data"]["body"]
            if client is customer:
                seqs.append(joined["data"]["seq"])

        # Messages both ways, each on the other instance.
        for n in range(5):
            said = await say(http_a, Chat(session, chat), f"question {n}")
            seq = said["message"]["seq"]
            heard = await agent.next_frame(
                "message.created",
                conversation_id=chat,
                where=_seq_is(seq),
            )
            assert heard["data"]["body"] == f"question {n}"
            seqs.append((await customer.next_frame("message.created"))["data"]["seq"])
            for reply in said.get("replies", []):
                await agent.next_frame("message.created", where=_seq_is(reply["seq"]))
                seqs.append((await customer.next_frame("message.created"))["data"]["seq"])
            answer = await agent_says(http_b, token, chat, f"answer {n}")
            heard = await customer.next_frame("message.created", conversation_id=chat)
            assert heard["data"]["seq"] == answer["seq"]
            assert heard["data"]["body"] == f"answer {n}"
            seqs.append(heard["data"]["seq"])
            await agent.next_frame("message.created", where=_seq_is(answer["seq"]))
        assert seqs == list(range(1, len(seqs) + 1)), seqs

        # Typing crosses too, both ways.
        await agent.send({"type": "typing", "conversation_id": chat, "is_typing": True})
        typing = await customer.next_frame("agent.typing", conversation_id=chat)
        assert typing["data"] == {
            "agent_id": agent_id,
            "display_name": typing["data"]["display_name"],
            "is_typing": True,
        }
        await customer.send({"type": "typing", "is_typing": True})
        typing = await agent.next_frame("customer.typing", conversation_id=chat)
        assert typing["data"] == {"is_typing": True}

        # The holder's presence reaches its customer on the other instance.
        await set_presence(http_b, token, "away")
        changed = await customer.next_frame("agent.presence.changed")
        assert changed["data"]["agent_id"] == agent_id
        assert changed["data"]["presence"] == "away"
        await agent.next_frame("agent.presence.changed")

        # Closed on B: both hear it.
        await close_chat(http_b, token, chat)
        for client in (customer, agent):
            closed = await client.next_frame("chat.closed", conversation_id=chat)
            assert closed["data"]["closed_by"]["id"] == agent_id

        # A hundred escalations of one new conversation, over both instances: one assignment.
        await set_presence(http_b, token, "online")
        started = expect(await http_a.post("/api/v1/customer/conversations/start"), 201)
        other, other_session = started["conversation"]["id"], started["customer_session_id"]
        statuses = await asyncio.gather(
            *(
                (http_a if i % 2 else http_b).post(
                    f"/api/v1/customer/conversations/{other}/escalate",
                    headers=customer_headers(other_session),
                )
                for i in range(100)
            )
        )
        assert {r.status_code for r in statuses} == {200}, {r.status_code for r in statuses}
        await agent.next_frame("agent.assigned", conversation_id=other)
        await agent.expect_nothing_more("agent.assigned", conversation_id=other)
        listed = expect(
            await http_b.get(
                f"/api/v1/customer/conversations/{other}/messages",
                params={"after_seq": 0, "limit": 500},
                headers=customer_headers(other_session),
            ),
            200,
        )
        joins = [
            m for m in listed["items"] if m["sender"]["type"] == "system" and "joined" in m["body"]
        ]
        assert len(joins) == 1, listed["items"]


def test_losing_redis_makes_instances_unready_and_sockets_resync() -> None:
    own = OwnRedis()
    own.start()
    try:
        with two_instances(own.url) as (a, _b):
            wait_ready(a.url, 200)
            with httpx.Client(base_url=a.url, timeout=30) as http_a:
                session, conversation = start_conversation(http_a)
            run(_resync_after_outage(a, own, session, conversation["id"]), within=90)
    finally:
        own.stop()


async def _resync_after_outage(a: Instance, own: OwnRedis, session: str, chat: str) -> None:
    async with connect(customer_url(a.url, chat, session), name="customer@A") as customer:
        await customer.next_frame("system.subscribed")
        own.stop()
        await asyncio.to_thread(wait_ready, a.url, 503)
        own.start()
        code = await customer.wait_closed(within=30)
        assert code == 1013, code
        await asyncio.to_thread(wait_ready, a.url, 200)
    async with connect(customer_url(a.url, chat, session, after_seq=0)) as again:
        await again.next_frame("system.subscribed")


def _seq_is(seq: int) -> Callable[[Frame], bool]:
    return lambda frame: bool(frame["data"]["seq"] == seq)
