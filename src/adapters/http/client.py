"""Where a request comes from: the one place that knows about proxies (for rate limits)."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def client_address(connection: HTTPConnection, *, trust_proxy: bool) -> str | None:
    """The peer's address, or behind a trusted proxy the first hop of X-Forwarded-For."""
    if trust_proxy:
        forwarded = connection.headers.get("x-forwarded-for", "")
        first = forwarded.split(",", 1)[0].strip()
        if first:
            return first
    return connection.client.host if connection.client else None
