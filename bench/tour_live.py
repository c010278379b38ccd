"""The tour's middle: messages reach each follower once, a dropped customer resyncs,
typing starts and stops (timeout, message, drop), and presence stays private.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from tour_kit import Api, Peer, check, differs, say
from tour_opening import Cast
from tour_server import TYPING_TIMEOUT

if TYPE_CHECKING:
    from ws_tour import Tour


async def live(tour: Tour, api: Api, cast: Cast) -> None:
    """Dana's connection drops twice here: ``cast.dana`` is her socket afterwards."""
    ada_ws, alice_ws, bob_ws, dana = cast.ada_ws, cast.alice_ws, cast.bob_ws, cast.dana
    alice, alice_id, bob, bob_id = cast.alice, cast.alice_id, cast.bob, cast.bob_id
    conv, session = cast.conv, cast.session

    say("Alice answers (seq 5): Dana, Alice (holder) and Ada (subscriber) each get it once")
    await api.call(
        "POST",
        f"/agent/conversations/{conv}/messages",
        token=alice,
        body={"body": "Hi Dana, I'm Alice. Let me look at your order."},
        expect=201,
    )
    for peer in (dana, alice_ws, ada_ws):
        frame = await peer.expect("message.created")
        if frame:
            check(f"{peer.name} message.created seq", 5, frame["data"]["seq"])
    await bob_ws.nothing("bob does not follow Alice's chat")
    for peer in (dana, alice_ws, ada_ws):
        await peer.nothing("each event once", kinds={"message.created"})

    say("Alice also subscribes to her own chat: still one frame per event")
    await alice_ws.send({"type": "subscribe", "conversation_id": conv, "after_seq": 5})
    snap = await alice_ws.expect("system.subscribed")
    if snap:
        check("alice snapshot after 5", [], snap["data"]["messages"])

    say("Dana's connection drops after seq 5; Alice posts 6 and 7 meanwhile")
    await dana.close()
    for text in (
        "Found it: order 1042 left our warehouse this morning.",
        "The tracking link is in your inbox; it should arrive Thursday.",
    ):
        await api.call(
            "POST",
            f"/agent/conversations/{conv}/messages",
            token=alice,
            body={"body": text},
            expect=201,
        )
    say("Dana reconnects with after_seq=5: the snapshot holds exactly 6 and 7")
    dana = await Peer(
        "dana",
        tour.ws(
            role="customer",
            conversation_id=conv,
            customer_session_id=session,
            after_seq=5,
        ),
    ).open()
    await dana.expect("system.connected")
    snap = await dana.expect("system.subscribed")
    if snap:
        check("resync seqs", [6, 7], [m["seq"] for m in snap["data"]["messages"]])
        check("resync last_seq", 7, snap["data"]["conversation"]["last_seq"])
    for peer in (alice_ws, ada_ws):
        await peer.gather(0.3)

    say("Typing: Dana types; Alice types; nobody hears their own")
    await dana.send({"type": "typing", "is_typing": True})
    for peer in (alice_ws, ada_ws):
        frame = await peer.expect("customer.typing")
        if frame:
            check("customer.typing data", {"is_typing": True}, frame["data"])
            check("customer.typing conversation_id", conv, frame["conversation_id"])
    await dana.nothing("a customer does not hear its own typing")
    await bob_ws.nothing("bob does not hear typing of a chat he does not follow")
    await alice_ws.send({"type": "typing", "conversation_id": conv, "is_typing": True})
    frame = await dana.expect("agent.typing")
    if frame:
        check(
            "agent.typing data",
            {"agent_id": alice_id, "display_name": "Alice", "is_typing": True},
            frame["data"],
        )
    await ada_ws.expect("agent.typing")
    await alice_ws.nothing("the typist does not hear itself")

    say(f"Nobody refreshes typing: after {TYPING_TIMEOUT} s both go false")
    for peer, kind in (
        (alice_ws, "customer.typing"),
        (ada_ws, "customer.typing"),
        (dana, "agent.typing"),
        (ada_ws, "agent.typing"),
    ):
        frame = await peer.expect(kind, TYPING_TIMEOUT + 2, is_typing=False)
    await asyncio.sleep(0.5)
    for peer in (alice_ws, ada_ws, dana):
        await peer.gather(0.1)

    say("Dana types, then sends: her typing ends when her message is stored")
    await dana.send({"type": "typing", "is_typing": True})
    await alice_ws.expect("customer.typing", is_typing=True)
    await ada_ws.expect("customer.typing", is_typing=True)
    await api.call(
        "POST",
        f"/customer/conversations/{conv}/messages",
        session=session,
        body={"body": "It's order 1042.", "client_message_id": "dana-1"},
        expect=201,
    )
    got = await alice_ws.gather(1.0)
    print(f"     alice got {[(f['type'], f['data'].get('is_typing')) for f in got]}")
    if not any(f["type"] == "customer.typing" and f["data"]["is_typing"] is False for f in got):
        differs("typing cleared when the typist posts", "customer.typing false", "nothing")
    await ada_ws.gather(0.3)
    await dana.gather(0.3)

    say("Privacy: Bob changes his presence (Dana must not hear); Alice goes away (she must)")
    await api.call("POST", "/agent/presence", token=bob, body={"presence": "online"})
    await alice_ws.expect("agent.presence.changed", agent_id=bob_id)
    await dana.nothing(
        "a customer never hears another agent's presence", kinds={"agent.presence.changed"}
    )
    await api.call("POST", "/agent/presence", token=alice, body={"presence": "away"})
    frame = await dana.expect("agent.presence.changed")
    if frame:
        check(
            "presence data",
            {"agent_id": alice_id, "display_name": "Alice", "presence": "away"},
            frame["data"],
        )
    await bob_ws.expect("agent.presence.changed", agent_id=alice_id)
    await api.call("POST", "/agent/presence", token=alice, body={"presence": "online"})
    await dana.expect("agent.presence.changed", presence="online")
    for peer in (alice_ws, bob_ws, ada_ws):
        await peer.gather(0.3)

    say("Dana types, then her connection drops: her typing ends with it")
    await dana.send({"type": "typing", "is_typing": True})
    await alice_ws.expect("customer.typing", is_typing=True)
    await dana.close()
    began = time.monotonic()
    if await alice_ws.expect("customer.typing", is_typing=False):
        took = time.monotonic() - began
        print(f"     is_typing false {took:.2f} s after the drop")
        if took > TYPING_TIMEOUT / 2:
            differs("typing ends when the typist leaves", "at once", f"after {took:.2f} s")
    await ada_ws.gather(0.3)
    dana = await Peer(
        "dana",
        tour.ws(role="customer", conversation_id=conv, customer_session_id=session, after_seq=8),
    ).open()
    await dana.expect("system.connected")
    snap = await dana.expect("system.subscribed")
    if snap:
        check("resync after 8, nothing missed", [], snap["data"]["messages"])

    cast.dana = dana
