"""Rate limits at the HTTP edge: which key each rule counts, and logins counted by outcome.

The checks come after the caller and the input are checked (401, 400) and before
the use case runs: a refused request does no work. With the Redis limiter a check
waits on the network, so it runs in a worker thread; the in-memory one runs here.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from starlette.requests import Request

from adapters.http.auth import session_id
from adapters.http.client import client_address
from adapters.ratelimit import RateLimits
from adapters.threads import run, run_hashing
from chatcore.errors import Unauthorized
from chatcore.usecases import Context, Session, accounts


class Throttle(Enum):
    """What an endpoint's requests are counted against (an Endpoint declares it)."""

    CONVERSATION_STARTS = "conversation_starts"  # per client address
    CUSTOMER_WRITES = "customer_writes"  # per customer session


async def admit(
    limits: RateLimits, throttle: Throttle, request: Request, *, trust_proxy: bool
) -> None:
    """Raise RateLimited (a 429) when the request is over its endpoint's limit."""
    check: Callable[[str | None], None]
    if throttle is Throttle.CONVERSATION_STARTS:
        check, key = limits.conversation_start, client_address(request, trust_proxy=trust_proxy)
    else:
        check, key = limits.customer_write, session_id(request)
    if limits.blocking:
        await run(check, key)
    else:
        check(key)


async def log_in(
    limits: RateLimits | None, ctx: Context, *, email: str, password: str, address: str | None
) -> Session:
    """accounts.login, refused before bcrypt while failures are over a limit, and
    counting its failures (only those: a success makes the address known instead)."""
    if limits is None:
        return await run_hashing(accounts.login, ctx, email=email, password=password)
    if limits.blocking:
        await run(limits.login_allowed, email=email, address=address)
    else:
        limits.login_allowed(email=email, address=address)
    return await run_hashing(_counted_login, limits, ctx, email, password, address)


def _counted_login(
    limits: RateLimits, ctx: Context, email: str, password: str, address: str | None
) -> Session:
    try:
        session = accounts.login(ctx, email=email, password=password)
    except Unauthorized:
        limits.login_failed(email=email, address=address)
        raise
    limits.login_succeeded(email=email, address=address)
    return session
