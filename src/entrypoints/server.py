"""How uvicorn serves chatcore: one place, used by ``chatcore serve`` and by the tests."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

import uvicorn
from starlette.types import ASGIApp

from adapters.guard import WebSocketProtocol, http_protocol
from entrypoints.settings import Settings

# Open WebSockets get this long to finish before a stop forces them shut.
GRACEFUL_SHUTDOWN_SECONDS = 10
# The contract's largest frame; websockets closes a bigger one with 1009 itself.
MAX_FRAME_BYTES = 64 * 1024


# Agent tokens and customer session ids travel in the WebSocket URL (browsers cannot
# set headers there), and uvicorn logs every URL: they are cut out of every line.
# A parameter's name is judged as the server reads it, percent-decoded (Starlette
# takes "access%5Ftoken" for access_token), and generously: any name that speaks of
# a token, session, password or secret loses its value. Too much cut is harmless.
_QUERY_PAIR = re.compile(r"([^=&;?\s\"']+)=([^&;\s\"']+)")
_SECRET_NAME = re.compile(r"token|session|passw|secret")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_redact(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


def _redact(text: str) -> str:
    return _QUERY_PAIR.sub(_redact_pair, text) if "=" in text else text


def _redact_pair(pair: re.Match[str]) -> str:
    name = pair.group(1)
    for _ in range(3):  # doubly encoded names too: unquote until nothing changes
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    if _SECRET_NAME.search(name.lower()):
        return f"{pair.group(1)}=[redacted]"
    return pair.group(0)


class MalformedFramesAreWarnings(logging.Filter):
    """A text frame that is not UTF-8 is the client's fault, not ours: one warning line.

    uvicorn's websockets protocol closes such a socket with 1007 itself (our app never
    sees the frame) but logs it as an error with a traceback, so any client could fill
    the log with tracebacks. Only that record is changed.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, UnicodeDecodeError) and record.msg == _INVALID_UTF8:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = "Invalid UTF-8 in a text frame from a client; closed with 1007."
            record.exc_info, record.exc_text = None, None
        return True


_INVALID_UTF8 = "Invalid UTF-8 sequence received from client."


def uvicorn_config(app: ASGIApp, settings: Settings, **overrides: Any) -> uvicorn.Config:
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "lifespan": "on",
        # uvloop when installed, as it is with chatcore. httptools (C), installed with
        # chatcore: measured, a posted message costs ~30% less CPU than with h11.
        # Guarded: pipelined requests, unread answers and header bytes are bounded per
        # connection, and headers must be complete within the header timeout.
        "loop": "auto",
        "http": http_protocol(header_timeout_seconds=settings.header_timeout_seconds),
        # websockets (sans-I/O), not wsproto: it pings, enforces the frame limit, and
        # applies backpressure, so a slow reader fills its own queue, not our memory.
        # Guarded: a peer that leaves pongs unread is cut.
        "ws": WebSocketProtocol,
        "ws_max_size": MAX_FRAME_BYTES,
        # Heartbeats: a ping every interval; a peer that has not answered within the
        # same time again is dead, and its connection (and presence) goes.
        "ws_ping_interval": float(settings.heartbeat_seconds),
        "ws_ping_timeout": float(settings.heartbeat_seconds),
        # Per-message deflate costs CPU and ~100 KiB of zlib state per connection for
        # small JSON; and compressing secrets next to attacker-chosen text invites
        # CRIME-style guessing.
        "ws_per_message_deflate": False,
        # Only behind a proxy may X-Forwarded-For name the client (uvicorn trusts
        # FORWARDED_ALLOW_IPS, 127.0.0.1 by default); otherwise anyone could forge it.
        "proxy_headers": settings.trust_proxy,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }
    options.update(overrides)
    config = uvicorn.Config(app, **options)  # configures uvicorn's loggers: filter after
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
    errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, MalformedFramesAreWarnings) for f in errors.filters):
        errors.addFilter(MalformedFramesAreWarnings())
    return config
