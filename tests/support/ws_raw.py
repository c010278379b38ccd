"""A hand-made WebSocket client: no automatic pong, no reading unless asked.

For the tests where the point is a peer that misbehaves: one that never reads
(slow consumers) or never answers a ping.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from urllib.parse import urlsplit

from support.ws import Frame


def raw_handshake(url: str, *, rcvbuf: int | None = None, timeout: float = 10) -> socket.socket:
    """A TCP socket that completed the WebSocket upgrade by hand and does nothing else."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path}?{parts.query} HTTP/1.1\r\n"
        f"Host: {parts.hostname}:{parts.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)  # byte by byte: leave every frame after the headers unread
        assert chunk, f"the server hung up during the handshake: {response!r}"
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_raw_frames(sock: socket.socket, *, timeout: float = 10) -> tuple[list[Frame], int | None]:
    """Read server frames from a raw socket until a close frame or EOF: (text frames, code)."""
    sock.settimeout(timeout)
    buffer = b""
    frames: list[Frame] = []

    def need(count: int) -> bool:
        nonlocal buffer
        while len(buffer) < count:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            buffer += chunk
        return True

    while need(2):
        opcode = buffer[0] & 0x0F
        length = buffer[1] & 0x7F
        header = 2
        if length == 126:
            if not need(4):
                break
            (length,) = struct.unpack("!H", buffer[2:4])
            header = 4
        elif length == 127:
            if not need(10):
                break
            (length,) = struct.unpack("!Q", buffer[2:10])
            header = 10
        if not need(header + length):
            break
        payload, buffer = buffer[header : header + length], buffer[header + length :]
        if opcode == 0x1:
            frames.append(json.loads(payload))
        elif opcode == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            return frames, code
    return frames, None
