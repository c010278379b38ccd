"""The tour's end: refused frames and handshakes, the chat closed, the privacy sweep,
the limits (a 64 KiB frame, a silent peer), presence by connection, revocation.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

from tour_kit import PASSWORD, Api, Peer, check, differs, saved, say
from tour_opening import Cast
from tour_server import GRACE, HEARTBEAT

if TYPE_CHECKING:
    from ws_tour import Tour


async def closing(tour: Tour, api: Api, cast: Cast) -> list[Peer]:
    """The sockets still open at the end, which the server's shutdown must close."""
    ada_ws, alice_ws, bob_ws, dana = cast.ada_ws, cast.alice_ws, cast.bob_ws, cast.dana
    ada, alice, alice_id, bob = cast.ada, cast.alice, cast.alice_id, cast.bob
    conv, session = cast.conv, cast.session

    say("Frames the server refuses: system.error bad_request, connection stays open")
    for text in (
        "not json",
        "[1, 2]",
        '{"type": "dance"}',
        '{"type": "typing"}',
        '{"type": "typing", "is_typing": "yes"}',
        json.dumps({"type": "subscribe", "conversation_id": conv}),
    ):
        await dana.send(text)
        frame = await dana.expect("system.error")
        if frame:
            check(f"dana sends {text[:40]}", "bad_request", frame["data"]["code"])
    await dana.send({"type": "ping"})
    frame = await dana.expect("system.pong")
    if frame:
        check("system.pong data", {}, frame["data"])
        check("system.pong conversation_id", None, frame["conversation_id"])
    for frame, code in (
        ({"type": "typing", "is_typing": True}, "bad_request"),
        ({"type": "subscribe", "conversation_id": str(uuid.uuid4())}, "not_found"),
        ({"type": "subscribe", "conversation_id": "nope"}, "not_found"),
        ({"type": "subscribe", "conversation_id": conv}, "forbidden"),
        ({"type": "typing", "conversation_id": conv, "is_typing": True}, "forbidden"),
        (
            {"type": "typing", "conversation_id": str(uuid.uuid4()), "is_typing": True},
            "not_found",
        ),
        ({"type": "subscribe", "conversation_id": conv, "after_seq": -1}, "bad_request"),
    ):
        await bob_ws.send(frame)
        got_frame = await bob_ws.expect("system.error")
        if got_frame:
            check(f"bob sends {json.dumps(frame)[:70]}", code, got_frame["data"]["code"])
    await bob_ws.send({"type": "unsubscribe", "conversation_id": conv})
    frame = await bob_ws.next()
    print(f"     unsubscribe of a chat bob never followed → {frame and frame['type']}")
    await ada_ws.send({"type": "unsubscribe", "conversation_id": conv})
    frame = await ada_ws.expect("system.unsubscribed")
    if frame:
        check("system.unsubscribed data", {"conversation_id": conv}, frame["data"])

    say("Handshakes the server refuses: one system.error, then a 44xx close")
    await tour.handshakes(conv, session, alice, bob, ada)

    say("After those refusals Dana's typing still reaches Alice, and Alice's presence Dana")
    await dana.send({"type": "typing", "is_typing": False})
    if not await alice_ws.expect("customer.typing", is_typing=False):
        differs("a refused stranger on Dana's chat", "Alice still hears Dana", "silence")
    await api.call("POST", "/agent/presence", token=alice, body={"presence": "away"})
    if not await dana.expect("agent.presence.changed", presence="away"):
        differs("a refused stranger on Dana's chat", "Dana still hears Alice", "silence")
    await api.call("POST", "/agent/presence", token=alice, body={"presence": "online"})
    for peer in (alice_ws, bob_ws, ada_ws, dana):
        await peer.gather(0.3)

    say("Alice closes the chat: chat.closed and conversation.updated")
    await api.call("POST", f"/agent/conversations/{conv}/close", token=alice, expect=200)
    for peer in (dana, alice_ws):
        got = await peer.gather(1.0)
        kinds = sorted(f["type"] for f in got)
        print(f"     {peer.name} got {kinds}")
        for kind in ("chat.closed", "conversation.updated", "message.created"):
            if kind not in kinds:
                differs(f"{peer.name} on close: {kind}", "arrives", "missing")
        for f in got:
            if f["type"] == "chat.closed":
                check(
                    "chat.closed data keys",
                    ["closed_at", "closed_by", "conversation_id"],
                    sorted(f["data"]),
                )
    got = await bob_ws.gather(1.0)
    check(
        "bob on close (status change only)",
        ["conversation.updated"],
        sorted(f["type"] for f in got),
    )
    await ada_ws.gather(0.5)

    say("Privacy sweep: no agent email ever reached Dana")
    for item in saved:
        if item["to"] == "dana":
            text = json.dumps(item["frame"])
            if "@example.com" in text.replace("dana@example.com", ""):
                differs("customer frame carries an agent email", "never", text[:120])

    say("A frame over 64 KiB closes the connection with 1009")
    big = await Peer("big", tour.ws(role="agent", access_token=bob)).open()
    await big.expect("system.connected")
    await big.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
    check("oversized frame close code", 1009, await big.closed())

    say(f"A peer that never answers pings is dropped after ~{2 * HEARTBEAT} s")
    await tour.silent_peer(conv, session)

    say(f"Presence by connection: Alice's last socket closes; offline after {GRACE} s")
    await alice_ws.close()
    began = time.monotonic()
    frame = await bob_ws.expect("agent.presence.changed", GRACE + 3, agent_id=alice_id)
    if frame:
        check("lapsed presence", "offline", frame["data"]["presence"])
        print(f"     offline {time.monotonic() - began:.2f} s after her last socket closed")
    alice_ws = await Peer("alice", tour.ws(role="agent", access_token=alice)).open()
    await alice_ws.expect("system.connected")
    frame = await bob_ws.expect("agent.presence.changed", agent_id=alice_id)
    if frame:
        check("presence restored on reconnect", "online", frame["data"]["presence"])

    say("Revocation: Bob logs out; his sockets close with 4401")
    await api.call("POST", "/agent/auth/logout", token=bob, expect=204)
    began = time.monotonic()
    check("socket of a logged-out token", 4401, await bob_ws.closed(6))
    print(f"     closed after {time.monotonic() - began:.2f} s")

    say("Revocation: Alice changes her password from another login; old socket 4401")
    other = await api.call(
        "POST", "/agent/auth/login", body={"email": "alice@example.com", "password": PASSWORD}
    )
    second = await Peer("alice2", tour.ws(role="agent", access_token=other["access_token"])).open()
    await second.expect("system.connected")
    await api.call(
        "POST",
        "/agent/password",
        token=other["access_token"],
        body={"current_password": PASSWORD, "new_password": PASSWORD + "!"},
        expect=204,
    )
    check("socket of another token after a password change", 4401, await alice_ws.closed(6))
    await second.nothing("the calling token's socket stays open", 1.0)
    check("calling token's socket still open", None, second.close_code)

    say("Revocation: Ada deactivates Alice; her remaining socket closes with 4401")
    await api.call("POST", f"/admin/agents/{alice_id}/deactivate", token=ada, expect=200)
    check("socket of a deactivated agent", 4401, await second.closed(6))

    return [dana, ada_ws]
