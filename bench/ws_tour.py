"""A guided tour of the realtime protocol: it prints every frame the server really sends.

Not a test. It starts ``chatcore serve`` on a temporary database (rate limits
off, bcrypt at 4 rounds, short typing, grace and heartbeat times so the tour
does not wait long) and plays a support chat over REST while a customer and
three agents watch on WebSockets:

    Ada    the first agent, so the admin; away; subscribes to Dana's chat
    Alice  an agent, online: she gets Dana's chat
    Bob    an agent, online later; may not read Alice's chat

Before they connect, a customer reconnects ``--race`` times (default 60) with
``after_seq`` while two others post as fast as they can, and each snapshot plus
what follows it is checked for a duplicate or a gap.

Every frame is printed as it arrives (``name < frame``); the steps say what the
contract (docs/realtime.md) expects, and a line starting ``DIFFERS`` marks each
place the server did something else. A summary of those comes last.
``--save frames.jsonl`` keeps every frame for copying into the docs.

    .venv/bin/python bench/ws_tour.py [--save frames.jsonl] [--race 60]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CHATCORE = str(Path(sys.executable).with_name("chatcore"))
PASSWORD = "correct-horse-42"
TYPING_TIMEOUT = 2
GRACE = 2
HEARTBEAT = 2
WAIT = 3.0  # how long a step waits for a frame it expects
QUIET = 0.6  # how long a step listens to be sure nothing (more) arrives

Frame = dict[str, Any]
differences: list[str] = []
saved: list[dict[str, Any]] = []


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def differs(what: str, expected: object, got: object) -> None:
    line = f"{what}: expected {expected}, got {got}"
    differences.append(line)
    print(f"DIFFERS  {line}", flush=True)


def check(what: str, expected: object, got: object) -> None:
    if expected != got:
        differs(what, expected, got)


class Peer:
    """One WebSocket: prints and keeps every frame; knows how it was closed."""

    def __init__(self, name: str, url: str, **headers: str) -> None:
        self.name, self.url, self.headers = name, url, headers
        self.inbox: asyncio.Queue[Frame] = asyncio.Queue()
        self.close_code: int | None = None
        self.close_reason = ""
        self.ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> Peer:
        self.ws = await connect(
            self.url,
            ping_interval=None,
            compression=None,
            additional_headers=self.headers or None,
            max_size=None,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                text = message if isinstance(message, str) else message.decode()
                frame = json.loads(text)
                shown = text if len(text) < 1500 else f"{text[:1500]}… ({len(text)} chars)"
                print(f"{self.name:>9} < {shown}", flush=True)
                saved.append({"to": self.name, "frame": frame})
                self.inbox.put_nowait(frame)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            print(f"{self.name:>9} x closed {self.close_code} {self.close_reason!r}", flush=True)

    async def send(self, frame: Frame | str) -> None:
        assert self.ws is not None
        text = frame if isinstance(frame, str) else json.dumps(frame)
        print(f"{self.name:>9} > {text[:200]}", flush=True)
        await self.ws.send(text)

    async def next(self, within: float = WAIT) -> Frame | None:
        try:
            return await asyncio.wait_for(self.inbox.get(), within)
        except TimeoutError:
            return None

    async def expect(self, kind: str, within: float = WAIT, **fields: Any) -> Frame | None:
        """The next frame of this type with these data fields; others before it are skipped."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            frame = await self.next(left)
            if frame is None:
                break
            if frame["type"] == kind and all(frame["data"].get(k) == v for k, v in fields.items()):
                return frame
        differs(f"{self.name} awaits {kind} {fields or ''}".strip(), "it arrives", "nothing")
        return None

    async def gather(self, seconds: float = QUIET) -> list[Frame]:
        frames = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            frame = await self.next(left)
            if frame is None:
                break
            frames.append(frame)
        return frames

    async def nothing(
        self, why: str, seconds: float = QUIET, kinds: set[str] | None = None
    ) -> None:
        """Listen a while: no frame (of these kinds, if given) may arrive."""
        extra = [f for f in await self.gather(seconds) if kinds is None or f["type"] in kinds]
        if extra:
            differs(f"{self.name}: {why}", "no frame", [f["type"] for f in extra])

    async def closed(self, within: float = WAIT) -> int | None:
        if self._reader is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), within)
        return self.close_code

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.closed()


class Api:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        session: str | None = None,
        body: Any = None,
        expect: int | None = None,
    ) -> Any:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if session:
            headers["X-Customer-Session-Id"] = session
        response = await self.client.request(method, "/api/v1" + path, headers=headers, json=body)
        print(f"     REST   {method} {path} → {response.status_code}", flush=True)
        if expect is not None and response.status_code != expect:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    async def agent(self, email: str, name: str, admin_token: str | None) -> tuple[str, str]:
        body = {"email": email, "password": PASSWORD, "display_name": name}
        await self.call("POST", "/agent/register", token=admin_token, body=body, expect=201)
        login = await self.call(
            "POST", "/agent/auth/login", body={"email": email, "password": PASSWORD}, expect=200
        )
        return login["access_token"], login["agent"]["id"]


class Tour:
    def __init__(self, url: str, race: int) -> None:
        self.url, self.race = url, race
        self.ws_base = url.replace("http://", "ws://", 1) + "/api/v1/realtime/ws"
        self.host = url.split("://", 1)[1]

    def ws(self, **query: Any) -> str:
        return self.ws_base + "?" + urlencode(query)

    async def refused(self, what: str, url: str, code: int, error: str, **headers: str) -> None:
        peer = Peer("refused", url, **headers)
        try:
            await peer.open()
        except Exception as exc:
            differs(what, f"accepted, system.error {error}, close {code}", f"{exc!r}")
            return
        frame = await peer.next()
        closed = await peer.closed()
        got = (frame and frame["type"], frame and frame["data"].get("code"), closed)
        check(what, ("system.error", error, code), got)
        if frame is not None:
            check(f"{what}: conversation_id", None, frame["conversation_id"])
            check(f"{what}: data keys", ["code", "message"], sorted(frame["data"]))

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            await self.story(Api(client))

    async def story(self, api: Api) -> None:
        say("Agents: Ada (first, so admin; away), Alice (online), Bob (online later)")
        ada, _ = await api.agent("ada@example.com", "Ada", None)
        alice, alice_id = await api.agent("alice@example.com", "Alice", ada)
        bob, bob_id = await api.agent("bob@example.com", "Bob", ada)
        await api.call("POST", "/agent/presence", token=alice, body={"presence": "online"})
        await api.call("POST", "/agent/presence", token=ada, body={"presence": "away"})

        say("A long chat (503 messages): the snapshot holds 500 and has_more")
        await self.long_chat(api)
        if self.race:  # before anyone else listens: its events would flood their sockets
            await resync_race(self.url, self.race)

        say("Alice and Bob connect without naming a conversation")
        alice_ws = await Peer("alice", self.ws(role="agent", access_token=alice)).open()
        hello = await alice_ws.expect("system.connected")
        if hello:
            check(
                "agent system.connected data",
                {"role": "agent", "agent_id": alice_id, "heartbeat_seconds": HEARTBEAT},
                hello["data"],
            )
            check("system.connected conversation_id", None, hello["conversation_id"])
        await alice_ws.nothing("no system.subscribed without a conversation")
        bob_ws = await Peer("bob", self.ws(role="agent", access_token=bob)).open()
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
            self.ws(
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
        await api.call(
            "POST", f"/customer/conversations/{conv}/escalate", session=session, expect=200
        )
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
        ada_ws = await Peer("ada", self.ws(role="agent", access_token=ada)).open()
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
            self.ws(
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
            self.ws(
                role="customer", conversation_id=conv, customer_session_id=session, after_seq=8
            ),
        ).open()
        await dana.expect("system.connected")
        snap = await dana.expect("system.subscribed")
        if snap:
            check("resync after 8, nothing missed", [], snap["data"]["messages"])

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
        await self.handshakes(conv, session, alice, bob, ada)

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
        big = await Peer("big", self.ws(role="agent", access_token=bob)).open()
        await big.expect("system.connected")
        await big.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
        check("oversized frame close code", 1009, await big.closed())

        say(f"A peer that never answers pings is dropped after ~{2 * HEARTBEAT} s")
        await self.silent_peer(conv, session)

        say(f"Presence by connection: Alice's last socket closes; offline after {GRACE} s")
        await alice_ws.close()
        began = time.monotonic()
        frame = await bob_ws.expect("agent.presence.changed", GRACE + 3, agent_id=alice_id)
        if frame:
            check("lapsed presence", "offline", frame["data"]["presence"])
            print(f"     offline {time.monotonic() - began:.2f} s after her last socket closed")
        alice_ws = await Peer("alice", self.ws(role="agent", access_token=alice)).open()
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
        second = await Peer(
            "alice2", self.ws(role="agent", access_token=other["access_token"])
        ).open()
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

        self.left_open = [dana, ada_ws]

    async def long_chat(self, api: Api) -> None:
        start = await api.call("POST", "/customer/conversations/start", expect=201)
        session, conv = start["customer_session_id"], start["conversation"]["id"]
        path = f"/customer/conversations/{conv}/messages"
        for n in range(251):  # each with the bot's reply: 1 + 2 * 251 = 503 messages
            response = await api.client.post(
                "/api/v1" + path,
                headers={"X-Customer-Session-Id": session},
                json={"body": f"Question number {n}?"},
            )
            response.raise_for_status()
        print(f"     REST   POST {path} → 201 (251 times)")
        eve = await Peer(
            "eve", self.ws(role="customer", conversation_id=conv, customer_session_id=session)
        ).open()
        await eve.expect("system.connected")
        snap = await eve.expect("system.subscribed")
        if snap:
            seqs = [m["seq"] for m in snap["data"]["messages"]]
            check(
                "long snapshot",
                (1, 500, 500, True),
                (seqs[0], seqs[-1], len(seqs), snap["data"]["has_more"]),
            )
        page = await api.call("GET", f"{path}?after_seq=500&limit=500", session=session)
        check("the rest over REST", [501, 502, 503], [m["seq"] for m in page["items"]])
        await api.call("POST", path, session=session, body={"body": "And one more?"}, expect=201)
        for seq in (504, 505):
            frame = await eve.expect("message.created")
            if frame:
                check("live after a long snapshot", seq, frame["data"]["seq"])
        await eve.close()

    async def handshakes(self, conv: str, session: str, alice: str, bob: str, ada: str) -> None:
        ws = self.ws
        missing = str(uuid.uuid4())
        await self.refused("no role", ws(), 4400, "bad_request")
        await self.refused("unknown role", ws(role="robot"), 4400, "bad_request")
        await self.refused(
            "customer without conversation_id",
            ws(role="customer", customer_session_id=session),
            4400,
            "bad_request",
        )
        await self.refused(
            "customer without session",
            ws(role="customer", conversation_id=conv),
            4400,
            "bad_request",
        )
        for bad in ("-1", "abc", "1.5"):
            await self.refused(
                f"customer after_seq={bad}",
                ws(
                    role="customer",
                    conversation_id=conv,
                    customer_session_id=session,
                    after_seq=bad,
                ),
                4400,
                "bad_request",
            )
        await self.refused(
            "customer, unknown conversation",
            ws(role="customer", conversation_id=missing, customer_session_id=session),
            4404,
            "not_found",
        )
        await self.refused(
            "customer, malformed conversation id",
            ws(role="customer", conversation_id="nope", customer_session_id=session),
            4404,
            "not_found",
        )
        await self.refused(
            "customer, someone else's session",
            ws(role="customer", conversation_id=conv, customer_session_id="x" * 43),
            4403,
            "forbidden",
        )
        await self.refused("agent without token", ws(role="agent"), 4401, "unauthorized")
        await self.refused(
            "agent, forged token", ws(role="agent", access_token="a.b.c"), 4401, "unauthorized"
        )
        await self.refused(
            "agent, forged token and bad after_seq",
            ws(role="agent", access_token="a.b.c", after_seq="x"),
            4401,
            "unauthorized",
        )
        await self.refused(
            "agent, bad after_seq and unknown conversation",
            ws(role="agent", access_token=bob, conversation_id=missing, after_seq="x"),
            4400,
            "bad_request",
        )
        await self.refused(
            "agent, unknown conversation",
            ws(role="agent", access_token=bob, conversation_id=missing),
            4404,
            "not_found",
        )
        await self.refused(
            "agent, someone else's chat",
            ws(role="agent", access_token=bob, conversation_id=conv),
            4403,
            "forbidden",
        )
        await self.refused(
            "agent from a foreign Origin",
            ws(role="agent", access_token=alice),
            4403,
            "forbidden",
            Origin="https://evil.example",
        )
        same = await Peer(
            "same-org", ws(role="agent", access_token=ada), Origin=f"http://{self.host}"
        ).open()
        frame = await same.next()
        check("agent from the same origin", "system.connected", frame and frame["type"])
        await same.close()
        # A bare socket from the same agent closing again is no presence news.

    async def silent_peer(self, conv: str, session: str) -> None:
        """A raw socket that completes the handshake and then never reads or answers."""
        host, port = self.host.split(":")
        path = "/api/v1/realtime/ws?" + urlencode(
            {"role": "customer", "conversation_id": conv, "customer_session_id": session}
        )
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request.encode())
        await writer.drain()
        began = time.monotonic()
        received = b""
        with suppress(TimeoutError):
            async with asyncio.timeout(4 * HEARTBEAT + 4):
                while chunk := await reader.read(65536):
                    received += chunk
        took = time.monotonic() - began
        frames = server_frames(received.partition(b"\r\n\r\n")[2])
        pings = sum(1 for opcode, _ in frames if opcode == 0x9)
        closes = [payload for opcode, payload in frames if opcode == 0x8]
        code = int.from_bytes(closes[0][:2], "big") if closes and closes[0] else None
        print(
            f"     server closed the silent socket after {took:.1f} s; {pings} ping(s) seen;"
            f" close frame {code if closes else 'absent'}"
        )
        if took > 2 * HEARTBEAT + 2:
            differs("silent peer dropped", f"within ~{2 * HEARTBEAT} s", f"{took:.1f} s")
        writer.close()


def server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each whole unmasked frame in what a server sent."""
    frames = []
    at = 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            length, at = int.from_bytes(data[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(data[at : at + 8], "big"), at + 8
        if at + length > len(data):
            break
        frames.append((opcode, data[at : at + length]))
        at += length
    return frames


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(scratch: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHATCORE_RATE_LIMITS": "off",
        "CHATCORE_DATABASE": str(scratch / "tour.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_PORT": str(port),
        "CHATCORE_TYPING_TIMEOUT_SECONDS": str(TYPING_TIMEOUT),
        "CHATCORE_PRESENCE_GRACE_SECONDS": str(GRACE),
        "CHATCORE_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    log = open(scratch / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen([CHATCORE, "serve"], env=env, stdout=log, stderr=log)
    try:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit(f"chatcore serve exited with {server.returncode}")
            with suppress(httpx.TransportError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url, server
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()
        lines = (scratch / "server.log").read_text(errors="replace").splitlines()
        # Warnings and errors only: the access log names every socket, secrets included.
        worth = [line for line in lines if not line.startswith("INFO:")]
        print(f"\n-- server log: {len(lines)} lines, {len(worth)} not INFO")
        print("\n".join(worth[:80]))


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


async def tour(url: str, server: subprocess.Popen[bytes], race: int) -> None:
    guide = Tour(url, race)
    async with asyncio.timeout(180 + race):
        await guide.run()
        say("The server stops (SIGINT): open sockets close with 1001 or 1012")
        server.send_signal(signal.SIGINT)
        for peer in guide.left_open:
            code = await peer.closed(15)
            if code not in (1001, 1012):
                differs(f"{peer.name} on shutdown", "1001 or 1012", code)
        # Let the graceful stop finish: a second SIGINT would force it.
        await asyncio.to_thread(server.wait, 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", type=Path, help="write every frame here, one JSON a line")
    parser.add_argument("--race", type=int, default=60, help="reconnects under load (0: skip)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="chatcore-tour-") as scratch,
        serving(Path(scratch)) as (url, server),
    ):
        asyncio.run(tour(url, server, args.race))
    if args.save:
        args.save.write_text("".join(json.dumps(item) + "\n" for item in saved))
    print(f"\n{len(differences)} difference(s) from the contract and the spec")
    for line in differences:
        print(f"  - {line}")


if __name__ == "__main__":
    main()
