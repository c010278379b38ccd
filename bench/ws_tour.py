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

The story is told in three chapters, tour_opening.py, tour_live.py and
tour_closing.py; tour_kit.py holds the peers, the REST client and the report,
tour_server.py the server. This module holds the scenes that stand alone (a
long chat, refused handshakes, a silent peer) and runs the whole.

    .venv/bin/python bench/ws_tour.py [--save frames.jsonl] [--race 60]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from tour_closing import closing
from tour_kit import Api, Peer, check, differences, differs, saved, say, server_frames
from tour_live import live
from tour_opening import opening
from tour_server import HEARTBEAT, serving


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
        cast = await opening(self, api)
        await live(self, api, cast)
        self.left_open = await closing(self, api, cast)

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
