"""Where a request comes from: the one place that knows about proxies (for rate limits)."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def client_address(connection: HTTPConnection, *, trust_proxy: bool) -> str | None:
    """The peer's address, or behind a trusted proxy the last hop of X-Forwarded-For.

    The last hop is the one our proxy appended; anything before it is whatever
    the client chose to send, so trusting the first hop would let anyone pick
    their own address (and dodge per-address rate limits).
    """
    if trust_proxy:
        forwarded = connection.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return connection.client.host if connection.client else None
