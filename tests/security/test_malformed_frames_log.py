"""Filling the server's log with tracebacks by sending text frames that are not UTF-8.

Malformed client input is logged at most as a warning, never as an error with a
traceback. uvicorn closes such a socket with 1007 before chatcore sees the frame,
and used to log an ERROR with a traceback each time: twenty sockets, twenty
tracebacks. Here a real ``chatcore serve`` gets them from agents and customers, in
one frame and split over a continuation frame, and its output must hold one
warning per socket and no error.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import httpx

from entrypoints.server import MalformedFramesAreWarnings
from support.rest import first_admin, start_conversation
from support.serve_process import chatcore_serve
from support.ws import agent_url, connect, customer_url, run
from support.ws_raw import raw_handshake, read_raw_frames

SOCKETS = 20
NOT_UTF8 = b'{"type": "ping", "note": "caf\xe9 \xff\xfe"}'
WARNING = "Invalid UTF-8 in a text frame from a client; closed with 1007."
TEXT, CONTINUATION = 0x1, 0x0


def _client_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A masked frame, as every client must send (payloads under 126 bytes)."""
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + mask + masked


def _whole(payload: bytes) -> bytes:
    return _client_frame(TEXT, payload)


def _split(payload: bytes) -> bytes:
    half = len(payload) // 2
    return _client_frame(TEXT, payload[:half], fin=False) + _client_frame(
        CONTINUATION, payload[half:]
    )


def _closed_with(sock: socket.socket, data: bytes) -> int | None:
    with sock:
        sock.sendall(data)
        frames, code = read_raw_frames(sock)
    greeting = {"system.connected", "system.subscribed"}  # whatever came before the frame
    assert {frame["type"] for frame in frames} <= greeting, frames
    return code


def test_text_frames_that_are_not_utf8_are_a_warning_not_a_traceback(tmp_path: Path) -> None:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "served.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_RATE_LIMITS": "off",
    }
    with (
        chatcore_serve(env, log=tmp_path / "serve.log") as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        admin = first_admin(client)
        session, conversation = start_conversation(client)
        urls = [
            agent_url(served.url, admin.token),
            customer_url(served.url, conversation["id"], session),
        ]
        codes = [
            _closed_with(
                raw_handshake(urls[n % 2]), (_whole if n < SOCKETS // 2 else _split)(NOT_UTF8)
            )
            for n in range(SOCKETS)
        ]
        assert codes == [1007] * SOCKETS

        async def still_serves() -> None:  # the server shrugged it off
            async with connect(urls[0]) as agent:
                await agent.next_frame("system.connected")
                await agent.ping()

        run(still_serves())
    output = served.output()
    assert "Traceback" not in output, output[-3000:]
    assert "ERROR" not in output, output[-3000:]
    assert output.count(WARNING) == SOCKETS, output[-3000:]


def test_only_that_record_is_changed() -> None:
    def record(msg: str, error: BaseException | None) -> logging.LogRecord:
        exc_info = (type(error), error, None) if error else None
        return logging.LogRecord("uvicorn.error", logging.ERROR, "x", 1, msg, None, exc_info)

    invalid = UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
    downgraded = record("Invalid UTF-8 sequence received from client.", invalid)
    assert MalformedFramesAreWarnings().filter(downgraded)
    assert (downgraded.levelno, downgraded.levelname) == (logging.WARNING, "WARNING")
    assert downgraded.exc_info is None
    # Our own bugs stay errors with their traceback, a UnicodeDecodeError included.
    for untouched in (
        record("Exception in ASGI application\n", invalid),
        record("Invalid UTF-8 sequence received from client.", ValueError("other")),
    ):
        assert MalformedFramesAreWarnings().filter(untouched)
        assert untouched.levelno == logging.ERROR
        assert untouched.exc_info is not None
