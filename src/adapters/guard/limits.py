"""What one connection may make the server hold, shared by the HTTP and WebSocket guards."""

from __future__ import annotations

import asyncio
import logging

# Answers a peer has not read, beyond which it is taken for one that never will. Far
# above uvicorn's 64 KiB high-water mark (past which the app itself waits), so only
# what the protocol writes unasked (pongs, queued pipelined answers) ever gets here.
MAX_UNREAD_BYTES = 4 * 1024 * 1024

logger = logging.getLogger("uvicorn.error")


def holding_too_much(transport: asyncio.Transport) -> bool:
    return transport.get_write_buffer_size() > MAX_UNREAD_BYTES


def cut(transport: asyncio.Transport, reason: str) -> None:
    """Drop the connection now: ``close()`` would wait to flush to a peer that never reads."""
    if transport.is_closing():
        return
    peer = transport.get_extra_info("peername")
    # A warning at most: this is a client's doing, not the server's fault.
    logger.warning("Closing the connection from %s: %s.", _address(peer), reason)
    transport.abort()


def _address(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "an unknown peer"
