"""A small WebSocket client for the realtime tests: real sockets, frames kept in a list.

``connect(url)`` opens a ``websockets`` client and a reader task that appends every
frame the server sends to ``client.frames`` (parsed) and ``client.texts`` (raw).
Tests then *take* frames: ``await client.next_frame("message.created")`` waits for
the earliest frame of that type not taken yet, so other frames never get in the
way, and ``await client.expect_nothing_more(...)`` proves a negative without
sleeping: it sends a ping and waits for its ``system.pong``; frames on one
connection are ordered, so anything sent before the pong is already here.

Waits are generous (10 s) and only ever bound a failure; nothing asserts timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

WS_PATH = "/api/v1/realtime/ws"
FRAME_TIMEOUT = 10.0
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ENVELOPE = {"type", "conversation_id", "data", "sent_at"}
_ANY: Any = object()
# Small settings keep the realtime tests quick; the heartbeat stays at a few seconds so a
# busy test machine never drops a healthy client (its own test sets 1 s).
FAST: dict[str, Any] = {
    "presence_grace_seconds": 1,
    "heartbeat_seconds": 5,
    "typing_timeout_seconds": 1,
    "rate_limits": False,
}

Frame = dict[str, Any]


# -- URLs ---------------------------------------------------------------------------


def ws_url(base: str, **params: Any) -> str:
    """``ws://host:port/api/v1/realtime/ws?…`` from the server's http:// base URL."""
    query = urlencode({k: str(v) for k, v in params.items() if v is not None})
    return base.replace("http://", "ws://", 1) + WS_PATH + (f"?{query}" if query else "")


def customer_url(base: str, conversation_id: str, session_id: str, *, after_seq: Any = None) -> str:
    return ws_url(
        base,
        role="customer",
        conversation_id=conversation_id,
        customer_session_id=session_id,
        after_seq=after_seq,
    )


def agent_url(
    base: str, token: str, *, conversation_id: str | None = None, after_seq: Any = None
) -> str:
    return ws_url(
        base,
        role="agent",
        access_token=token,
        conversation_id=conversation_id,
        after_seq=after_seq,
    )


# -- the client ---------------------------------------------------------------------


def assert_envelope(frame: Frame) -> None:
    assert set(frame) == ENVELOPE, frame
    assert isinstance(frame["type"], str), frame
    assert frame["conversation_id"] is None or isinstance(frame["conversation_id"], str), frame
    assert isinstance(frame["data"], dict), frame
    assert isinstance(frame["sent_at"], str), frame
    assert TIMESTAMP.match(frame["sent_at"]), frame


def _matches(frame: Frame, type_: str | None, conversation_id: Any, where: Any) -> bool:
    if type_ is not None and frame.get("type") != type_:
        return False
    if conversation_id is not _ANY and frame.get("conversation_id") != conversation_id:
        return False
    return where is None or bool(where(frame))


class WsClient:
    """One live connection and everything it received, in arrival order."""

    def __init__(self, connection: ClientConnection, name: str) -> None:
        self.connection = connection
        self.name = name
        self.texts: list[str] = []
        self.frames: list[Frame] = []
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._taken: set[int] = set()
        self._pings = 0
        self._changed = asyncio.Event()
        self._done = asyncio.Event()
        self._reader = asyncio.create_task(self._read(), name=f"ws-reader-{name}")

    async def _read(self) -> None:
        try:
            async for text in self.connection:
                self.texts.append(text if isinstance(text, str) else text.decode())
                self.frames.append(json.loads(text))
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.connection.close_code
            self.close_reason = self.connection.close_reason
            self._done.set()
            self._changed.set()

    # -- looking at what came ---------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._done.is_set()

    def types(self) -> list[str]:
        return [str(frame.get("type")) for frame in self.frames]

    def of_type(self, type_: str, *, conversation_id: Any = _ANY) -> list[Frame]:
        """Every frame of a type received so far, taken or not."""
        return [f for f in self.frames if _matches(f, type_, conversation_id, None)]

    def untaken(self) -> list[Frame]:
        return [f for i, f in enumerate(self.frames) if i not in self._taken]

    def _describe(self) -> str:
        shown = [
            (f.get("type"), f.get("conversation_id"), _short(f.get("data"))) for f in self.frames
        ]
        return f"{self.name} (closed={self.closed}, code={self.close_code}) received {shown}"

    def _find(self, type_: str | None, conversation_id: Any, where: Any, start: int = 0) -> int:
        for index in range(start, len(self.frames)):
            if index not in self._taken and _matches(
                self.frames[index], type_, conversation_id, where
            ):
                return index
        return -1

    async def next_frame(
        self,
        type_: str | None = None,
        *,
        conversation_id: Any = _ANY,
        where: Callable[[Frame], bool] | None = None,
        within: float = FRAME_TIMEOUT,
        take: bool = True,
    ) -> Frame:
        """The earliest frame not taken yet that matches; waits for it, then takes it.

        With ``take=False`` the frame stays where it is, for a later ``next_frame``.
        """
        try:
            async with asyncio.timeout(within):
                while True:
                    self._changed.clear()
                    index = self._find(type_, conversation_id, where)
                    if index >= 0:
                        if take:
                            self._taken.add(index)
                        frame = self.frames[index]
                        assert_envelope(frame)
                        return frame
                    if self.closed:
                        raise AssertionError(
                            f"closed before a {type_ or 'frame'} came: {self._describe()}"
                        )
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"no {type_ or 'frame'} (conversation_id={_show(conversation_id)})"
                f" within {within} s: {self._describe()}"
            ) from None

    async def take(self, type_: str, count: int, **match: Any) -> list[Frame]:
        """The next ``count`` frames of a type, in arrival order."""
        return [await self.next_frame(type_, **match) for _ in range(count)]

    # -- talking ----------------------------------------------------------------------

    async def send(self, frame: Frame | list[Any] | str | bytes) -> None:
        """A dict or list goes as JSON text; a str or bytes goes as it is."""
        payload = frame if isinstance(frame, str | bytes) else json.dumps(frame)
        await self.connection.send(payload)

    async def ping(self, within: float = FRAME_TIMEOUT) -> Frame:
        """Send ``{"type": "ping"}`` and return its ``system.pong`` (pongs come in order)."""
        self._pings += 1
        wanted = self._pings
        await self.send({"type": "ping"})
        try:
            async with asyncio.timeout(within):
                while True:
                    self._changed.clear()
                    pongs = [i for i, f in enumerate(self.frames) if f.get("type") == "system.pong"]
                    if len(pongs) >= wanted:
                        index = pongs[wanted - 1]
                        self._taken.add(index)
                        return self.frames[index] | {"_index": index}
                    if self.closed:
                        raise AssertionError(f"closed before the pong: {self._describe()}")
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"no pong within {within} s: {self._describe()}") from None

    async def expect_nothing_more(
        self,
        *types: str,
        conversation_id: Any = _ANY,
        where: Callable[[Frame], bool] | None = None,
    ) -> None:
        """No untaken frame (of these types, this conversation) arrived before a fresh pong."""
        pong = await self.ping()
        index = pong["_index"]
        unexpected = [
            f
            for i, f in enumerate(self.frames[:index])
            if i not in self._taken
            and f.get("type") != "system.connected"  # the greeting every connection gets
            and (not types or f.get("type") in types)
            and _matches(f, None, conversation_id, where)
        ]
        assert not unexpected, f"{self.name} got unexpected frames: {unexpected}"

    async def wait_closed(self, within: float = FRAME_TIMEOUT) -> int | None:
        """The close code the server sent (None if it never closed within the timeout)."""
        try:
            async with asyncio.timeout(within):
                await self._done.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.name} still open after {within} s: {self._describe()}"
            ) from None
        return self.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.connection.close(), 5)
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader


def _short(data: Any) -> Any:
    text = json.dumps(data)
    return text if len(text) < 160 else text[:157] + "..."


def _show(value: Any) -> str:
    return "any" if value is _ANY else repr(value)


@asynccontextmanager
async def connect(
    url: str,
    *,
    name: str | None = None,
    origin: str | None = None,
    sock: socket.socket | None = None,
    max_queue: int | tuple[int | None, int | None] | None = 16,
    ping_interval: float | None = None,
) -> AsyncIterator[WsClient]:
    """A connected WsClient; closed (and its reader stopped) on the way out.

    The client sends no Origin header unless ``origin`` is given, does not ping on
    its own, and answers the server's pings (websockets does that while reading).
    """
    try:
        connection = await ws_connect(
            url,
            origin=Origin(origin) if origin else None,
            sock=sock,
            proxy=None,
            max_size=None,
            max_queue=max_queue,
            ping_interval=ping_interval,
            open_timeout=FRAME_TIMEOUT,
            close_timeout=2,
        )
    except InvalidStatus as error:
        raise AssertionError(
            f"the handshake was refused with HTTP {error.response.status_code}"
            f" instead of accepted: {url}"
        ) from None
    client = WsClient(connection, name or _name_of(url))
    try:
        yield client
    finally:
        await client.close()


def _name_of(url: str) -> str:
    query = urlsplit(url).query
    return "customer" if "role=customer" in query else "agent" if "role=agent" in query else url


async def refused(url: str, *, origin: str | None = None) -> tuple[list[Frame], int | None]:
    """A handshake that must fail: (the frames it got, the close code)."""
    async with connect(url, origin=origin, name="refused") as client:
        code = await client.wait_closed()
        return client.frames, code


def run(scenario: Awaitable[Any], within: float = 60) -> Any:
    """Run a test's async scenario with an overall bound."""

    async def bounded() -> Any:
        async with asyncio.timeout(within):
            return await scenario

    return asyncio.run(bounded())


# -- privacy --------------------------------------------------------------------------


def assert_private(client: WsClient, agent_emails: Iterable[str]) -> None:
    """Nothing a customer received names an agent's email or carries a password."""
    emails = [email.lower() for email in agent_emails]
    for text, frame in zip(client.texts, client.frames, strict=True):
        lowered = text.lower()
        for email in emails:
            assert email not in lowered, f"{client.name} saw an agent's email: {text}"
        _no_secret_keys(frame, text)


def _no_secret_keys(value: Any, text: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert "password" not in key.lower(), f"a password field reached a customer: {text}"
            assert "token" not in key.lower(), f"a token field reached a customer: {text}"
            _no_secret_keys(item, text)
    elif isinstance(value, list):
        for item in value:
            _no_secret_keys(item, text)
