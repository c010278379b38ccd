"""Order and completeness: dense ``seq`` for every observer, and the snapshot as the resync.

Three senders post at once over REST while customers and agents watch; each
watcher must see ``message.created`` with ``seq`` going up by exactly one from its
snapshot to the last stored message. A client that reconnects with the last seq
it saw gets exactly what it missed in ``system.subscribed``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from support.rest import (
    Chat,
    Staff,
    customer_headers,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_conversation,
)
from support.rest_async import agent_says, escalate, messages, rest, say
from support.servers import LiveServer
from support.ws import FAST, WsClient, agent_url, connect, customer_url, run

PER_SENDER = 30


async def _watch_until(
    client: WsClient, conversation_id: str, snapshot_last: int, last: int
) -> list[int]:
    """Every message.created seq this client gets up to ``last``; checks it is dense."""
    seqs: list[int] = []
    while not seqs or seqs[-1] < last:
        frame = await client.next_frame("message.created", conversation_id=conversation_id)
        seqs.append(frame["data"]["seq"])
    assert seqs == list(range(snapshot_last + 1, last + 1)), (client.name, snapshot_last, seqs)
    await client.expect_nothing_more("message.created")  # no duplicate trailing behind
    return seqs


def _snapshot_last(subscribed: dict[str, Any]) -> int:
    """The snapshot's newest seq; its messages are themselves dense and ascending."""
    messages = subscribed["data"]["messages"]
    seqs = [m["seq"] for m in messages]
    if seqs:
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    last: int = seqs[-1] if seqs else subscribed["data"]["conversation"]["last_seq"]
    return last


def test_three_concurrent_senders_every_watcher_sees_a_dense_seq(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        go_online(client, alice)
        alice_second_token = new_token(client, alice.email)
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def send_as_customer() -> None:
        async with rest(server.url) as http:
            for n in range(PER_SENDER):
                await say(http, Chat(session, x), f"customer {n}")

    async def send_as_agent(token: str, label: str) -> None:
        async with rest(server.url) as http:
            for n in range(PER_SENDER):
                await agent_says(http, token, x, f"{label} {n}")

    async def scenario() -> None:
        async with rest(server.url) as http:
            await escalate(http, Chat(session, x))
        async with (
            connect(customer_url(server.url, x, session), name="customer") as customer,
            connect(agent_url(server.url, alice.token), name="holder") as holder,
            connect(agent_url(server.url, admin.token, conversation_id=x), name="admin") as sub,
        ):
            await holder.next_frame("system.connected")
            customer_from = _snapshot_last(await customer.next_frame("system.subscribed"))
            admin_from = _snapshot_last(await sub.next_frame("system.subscribed"))
            assert customer_from == admin_from == 2  # greeting, joined
            await holder.ping()

            senders = asyncio.gather(
                send_as_customer(),
                send_as_agent(alice.token, "alice"),
                send_as_agent(alice_second_token, "alice again"),
            )
            # Late joiners connect while the senders are going: snapshot + live is dense.
            await customer.next_frame(
                "message.created",
                conversation_id=x,
                where=lambda f: f["data"]["seq"] >= 20,
                take=False,
            )
            async with (
                connect(customer_url(server.url, x, session), name="late tab") as late_tab,
                connect(
                    agent_url(server.url, admin.token, conversation_id=x, after_seq=5),
                    name="late admin",
                ) as late_admin,
            ):
                late_tab_from = _snapshot_last(await late_tab.next_frame("system.subscribed"))
                late_admin_snapshot = await late_admin.next_frame("system.subscribed")
                late_admin_from = _snapshot_last(late_admin_snapshot)
                assert late_admin_snapshot["data"]["messages"][0]["seq"] == 6
                await senders

                async with rest(server.url) as http:
                    everything = await messages(http, Chat(session, x))
                    last = expect(
                        await http.get(
                            f"/api/v1/customer/conversations/{x}",
                            headers=customer_headers(session),
                        ),
                        200,
                    )["last_seq"]
                assert last == 2 + 3 * PER_SENDER
                assert [m["seq"] for m in everything] == list(range(1, last + 1))

                # The holder had no snapshot: it reads from seq 3 on.
                await _watch_until(customer, x, customer_from, last)
                await _watch_until(holder, x, 2, last)
                await _watch_until(sub, x, admin_from, last)
                await _watch_until(late_tab, x, late_tab_from, last)
                await _watch_until(late_admin, x, late_admin_from, last)

                # Each sender's own messages keep the order it sent them in.
                for label in ("customer", "alice", "alice again"):
                    bodies = [m["body"] for m in everything if m["body"].rsplit(" ", 1)[0] == label]
                    assert bodies == [f"{label} {n}" for n in range(PER_SENDER)]

    run(scenario())


# -- resync ----------------------------------------------------------------------------


def test_reconnecting_with_the_last_seq_gets_exactly_what_was_missed(
    make_server: Callable[..., LiveServer],
) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin: Staff = first_admin(client)
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with rest(server.url) as http:
            async with connect(customer_url(server.url, x, session)) as customer:
                await customer.next_frame("system.subscribed")
                await say(http, Chat(session, x), "first")
                await say(http, Chat(session, x), "second")
                seen = await customer.take("message.created", 4, conversation_id=x)
                last_seen = seen[-1]["data"]["seq"]
                assert last_seen == 5
            for n in range(3):
                await say(http, Chat(session, x), f"while away {n}")
            stored = await messages(http, Chat(session, x))
            missed = [m for m in stored if m["seq"] > last_seen]
            assert [m["seq"] for m in missed] == list(range(6, 12))

            url = customer_url(server.url, x, session, after_seq=last_seen)
            async with connect(url) as customer:
                snapshot = await customer.next_frame("system.subscribed")
                assert snapshot["data"]["messages"] == missed
                assert snapshot["data"]["has_more"] is False
                assert snapshot["data"]["conversation"]["last_seq"] == 11
                await say(http, Chat(session, x), "back again")
                live = await customer.take("message.created", 2, conversation_id=x)
                assert [f["data"]["seq"] for f in live] == [12, 13]

            # The same for an agent, over the URL and over a subscribe frame.
            url = agent_url(server.url, admin.token, conversation_id=x, after_seq=9)
            async with connect(url) as agent:
                snapshot = await agent.next_frame("system.subscribed")
                assert [m["seq"] for m in snapshot["data"]["messages"]] == [10, 11, 12, 13]
                await agent.send({"type": "subscribe", "conversation_id": x, "after_seq": 12})
                again = await agent.next_frame("system.subscribed")
                assert [m["seq"] for m in again["data"]["messages"]] == [13]
                await agent.send({"type": "subscribe", "conversation_id": x, "after_seq": 13})
                again = await agent.next_frame("system.subscribed")
                assert again["data"]["messages"] == []
                assert again["data"]["has_more"] is False

    run(scenario())


def test_more_than_500_missed_is_500_and_has_more(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(**FAST)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        session, conversation = start_conversation(client)
    x = conversation["id"]

    async def scenario() -> None:
        async with rest(server.url) as http:
            # 251 questions, each with the bot's answer: 502 new messages after the greeting.
            gate = asyncio.Semaphore(8)

            async def ask(n: int) -> None:
                async with gate:
                    await say(http, Chat(session, x), f"question {n}")

            await asyncio.gather(*(ask(n) for n in range(251)))
            stored = await messages(http, Chat(session, x))
            assert len(stored) == 503

            async with connect(customer_url(server.url, x, session, after_seq=1)) as customer:
                snapshot = await customer.next_frame("system.subscribed")
                first_page = snapshot["data"]["messages"]
                assert len(first_page) == 500
                assert first_page == stored[1:501]
                assert snapshot["data"]["has_more"] is True
            async with connect(customer_url(server.url, x, session, after_seq=3)) as customer:
                snapshot = await customer.next_frame("system.subscribed")
                assert snapshot["data"]["messages"] == stored[3:]
                assert snapshot["data"]["has_more"] is False

    run(scenario())
