"""Only the ``Host`` names this server answers to reach the application.

Whatever builds an absolute address from the request (a redirect, a link) would
otherwise write the client's ``Host`` into it: a poisoned cache or a link to
another site. A ``Host`` that is not allowed is refused before any route runs;
so is a WebSocket handshake, which compares ``Origin`` with ``Host``.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.http.errors import error_response

POLICY_VIOLATION = 1008


def host_name(host: str) -> str:
    """``example.com:8000`` → ``example.com``; ``[::1]:8000`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class AllowedHosts:
    """``*`` allows any name; ``*.example.com`` any name under example.com."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        names = {host_name(h) for h in allowed_hosts if h.strip()}
        self.any = "*" in names
        self.exact = frozenset(n for n in names if not n.startswith("*."))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))

    def admits(self, host: str) -> bool:
        name = host_name(host)
        return self.any or name in self.exact or (bool(name) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")
        # No Host at all (HTTP/1.0): addresses are built from the socket's own address.
        if host is None or self.admits(host):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
        else:
            message = "This server does not answer to that Host."
            await error_response(400, "validation_error", message)(scope, receive, send)
