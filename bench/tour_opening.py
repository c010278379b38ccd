"""The tour's opening: the agents, a long chat, the resync race, Dana's chat.

Ada, Alice and Bob register; a 503-message chat checks the snapshot's cap;
``resync_race`` reconnects a customer again and again under load; then Dana
opens a chat, connects, asks for a person (Alice gets it) and Ada subscribes.
What it leaves open and who holds what is the ``Cast`` the later chapters
(tour_live.py, tour_closing.py) play on.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from tour_kit import Api, Peer, check, differs, say
from tour_server import HEARTBEAT
from websockets.asyncio.client import connect

if TYPE_CHECKING:  # ws_tour.Tour calls the chapters with itself: no import cycle at run time
    from ws_tour import Tour


@dataclass
class Cast:
    """Who is in the story once it has begun: tokens, ids, the chat and open sockets."""

    ada: str
    alice: str
    alice_id: str
    bob: str
    bob_id: str
    conv: Any
    session: Any
    alice_ws: Peer
    bob_ws: Peer
    ada_ws: Peer
    dana: Peer


async def opening(tour: Tour, api: Api) -> Cast:
    say("Agents: Ada (first, so admin; away), Alice (online), Bob (online later)")
    ada, _ = await api.agent("ada@example.com", "Ada", None)
    alice, alice_id = await api.agent("alice@example.com", "Alice", ada)
    bob, bob_id = await api.agent("bob@example.com", "Bob", ada)
    await api.call("POST", "/agent/presence", token=alice, body={"presence": "online"})
    await api.call("POST", "/agent/presence", token=ada, body={"presence": "away"})

    say("A long chat (503 messages): the snapshot holds 500 and has_more")
    await tour.long_chat(api)
    if tour.race:  # before anyone else listens: its events would flood their sockets
        await resync_race(tour.url, tour.race)

    say("Alice and Bob connect without naming a conversation")
    alice_ws = await Peer("alice", tour.ws(role="agent", access_token=alice)).open()
    hello = await alice_ws.expect("system.connected")
    if hello:
        check(
            "agent system.connected data",
            {"role": "agent", "agent_id": alice_id, "heartbeat_seconds": HEARTBEAT},
            hello["data"],
        )
        check("system.connected conversation_id", None, hello["conversation_id"])
    await alice_ws.nothing("no system.subscribed without a conversation")
    bob_ws = await Peer("bob", tour.ws(role="agent", access_token=bob)).open()
    await bob_ws.expect("system.connected")

    say("Dana opens the chat; the bot greets; she taps 'Where is my order?'")
    start = await api.call(
        "POST",
        "/customer/conversations/start",
        body={"display_name": "Dana", "email": "dana@example.com"},
        expect=201,
    )
    session, conv = start["customer_session_id"], start["conversation"]["id"]
    for agent in (alice_ws, bob_ws):  # AUTOMATED: every agent hears of it
        await agent.expect("conversation.updated")
    await api.call(
        "POST",
        f"/customer/conversations/{conv}/quick-replies/track-order",
        session=session,
        expect=201,
    )
    for agent in (alice_ws, bob_ws):
        frame = await agent.expect("conversation.updated")
        if frame:
            check(
                "agent conversation.updated has last_message",
                True,
                "last_message" in frame["data"],
            )
        await agent.nothing("no message.created of an AUTOMATED chat it does not follow")

    say("Dana connects: system.connected, then system.subscribed with seq 1..3")
    dana = await Peer(
        "dana",
        tour.ws(
            role="customer",
            conversation_id=conv,
            customer_session_id=session,
        ),
        Origin="https://shop.example.com",
    ).open()
    hello = await dana.expect("system.connected")
    if hello:
        check(
            "customer system.connected data",
            {"role": "customer", "agent_id": None, "heartbeat_seconds": HEARTBEAT},
            hello["data"],
        )
    snap = await dana.expect("system.subscribed")
    if snap:
        check("snapshot seqs", [1, 2, 3], [m["seq"] for m in snap["data"]["messages"]])
        check("snapshot has_more", False, snap["data"]["has_more"])
        check("snapshot conversation_id", conv, snap["conversation_id"])
        check(
            "customer snapshot has no last_message",
            False,
            "last_message" in snap["data"]["conversation"],
        )

    say("Dana asks for a person: Alice gets the chat (seq 4, the system message)")
    await api.call("POST", f"/customer/conversations/{conv}/escalate", session=session, expect=200)
    got = await dana.gather(1.0)
    kinds = [f["type"] for f in got]
    print(f"     dana got {kinds}")
    for kind in ("message.created", "agent.assigned", "conversation.updated"):
        if kind not in kinds:
            differs(f"dana on escalation: {kind}", "arrives", "missing")
    got = await alice_ws.gather(1.0)
    kinds = [f["type"] for f in got]
    print(f"     alice got {kinds}")
    for kind in ("message.created", "agent.assigned", "conversation.updated"):
        if kind not in kinds:
            differs(f"alice on being assigned: {kind}", "arrives", "missing")
    for f in got:
        if f["type"] == "agent.assigned":
            check("agent.assigned data keys", ["agent", "conversation_id"], sorted(f["data"]))
            check(
                "agent.assigned agent keys",
                ["display_name", "id", "presence"],
                sorted(f["data"]["agent"]),
            )
    got = await bob_ws.gather(1.0)
    kinds = [f["type"] for f in got]
    print(f"     bob got {kinds}")
    check(
        "bob (not the holder) on the escalation",
        ["agent.assigned", "conversation.updated"],
        sorted(kinds),
    )

    say("Ada (admin) subscribes to Dana's chat over her socket, then once more")
    ada_ws = await Peer("ada", tour.ws(role="agent", access_token=ada)).open()
    await ada_ws.expect("system.connected")
    await ada_ws.send({"type": "subscribe", "conversation_id": conv, "after_seq": 3})
    snap = await ada_ws.expect("system.subscribed")
    if snap:
        check("ada snapshot seqs after 3", [4], [m["seq"] for m in snap["data"]["messages"]])
        shown = snap["data"]["conversation"]
        last = shown.get("last_message") or {}
        check(
            "agent snapshot: conversation.last_message is the newest message",
            shown["last_seq"],
            last.get("seq", shown.get("last_message", "no last_message field")),
        )

    return Cast(
        ada=ada,
        alice=alice,
        alice_id=alice_id,
        bob=bob,
        bob_id=bob_id,
        conv=conv,
        session=session,
        alice_ws=alice_ws,
        bob_ws=bob_ws,
        ada_ws=ada_ws,
        dana=dana,
    )


async def resync_race(url: str, rounds: int) -> None:
    """Reconnect again and again while messages pour in: any duplicate or gap after a snapshot?"""
    say(f"Resync under load: {rounds} reconnects with after_seq while customers post")
    ws_base = url.replace("http://", "ws://", 1) + "/api/v1/realtime/ws?"
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=30) as client:
        start = (await client.post("/customer/conversations/start")).json()
        session, conv = start["customer_session_id"], start["conversation"]["id"]
        headers = {"X-Customer-Session-Id": session}
        done = asyncio.Event()

        async def post() -> None:
            while not done.is_set():
                await client.post(
                    f"/customer/conversations/{conv}/messages", headers=headers, json={"body": "hi"}
                )

        posters = [asyncio.create_task(post()) for _ in range(2)]
        last_seen, bad = 0, 0
        query = {"role": "customer", "conversation_id": conv, "customer_session_id": session}
        for _ in range(rounds):
            async with connect(ws_base + urlencode({**query, "after_seq": last_seen})) as ws:
                json.loads(await ws.recv())  # system.connected
                snapshot = json.loads(await ws.recv())["data"]
                seqs = [m["seq"] for m in snapshot["messages"]]
                with suppress(TimeoutError):
                    async with asyncio.timeout(0.3):
                        async for text in ws:
                            frame = json.loads(text)
                            if frame["type"] == "message.created":
                                seqs.append(frame["data"]["seq"])
            expected = list(range(last_seen + 1, last_seen + 1 + len(seqs)))
            if seqs != expected and not snapshot["has_more"]:
                bad += 1
                where = next(
                    i for i, (a, b) in enumerate(zip(seqs, expected, strict=True)) if a != b
                )
                cut = len(snapshot["messages"])
                print(
                    f"     after_seq={last_seen}: snapshot ended at {seqs[cut - 1] if cut else '-'}"
                    f", then {seqs[max(cut, where - 1) : where + 3]}"
                )
            last_seen = seqs[-1] if seqs else last_seen
        done.set()
        await asyncio.gather(*posters)
    print(f"     {rounds} reconnects, {bad} with a duplicate or gap, last seq {last_seen}")
    if bad:
        differs(
            "resync under load",
            "no seq <= the snapshot's last after system.subscribed",
            f"{bad} of {rounds} reconnects saw one",
        )
