"""What every step of the WebSocket tour (ws_tour.py) uses: its report, its clients.

``say`` heads a step; ``check`` and ``differs`` print a ``DIFFERS`` line and
keep it in ``differences`` for the summary. A ``Peer`` is one WebSocket that
prints and keeps every frame (in ``saved``, for ``--save``); ``Api`` makes the
REST calls and prints each status; ``server_frames`` reads raw frames off a
socket that bypassed both.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PASSWORD = "correct-horse-42"
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
