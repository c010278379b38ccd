"""Rate limits at the HTTP edge: which key each rule counts, and password checks
counted by outcome.

The checks come after the caller and the input are checked (401, 400) and before
the use case runs: a refused request does no work. With the Redis limiter a check
waits on the network, so it runs in a worker thread; the in-memory one runs here.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TypeVar

from starlette.requests import Request

from adapters.http.auth import session_id
from adapters.http.client import client_address
from adapters.ratelimit import LoginAttempt, RateLimits
from adapters.threads import run, run_hashing
from chatcore.agents import check_fields, password_problem
from chatcore.errors import Unauthorized
from chatcore.usecases import Actor, Context, Session, accounts, customer

T = TypeVar("T")


class Throttle(Enum):
    """What an endpoint's requests are counted against (an Endpoint declares it)."""

    CONVERSATION_STARTS = "conversation_starts"  # per client address
    CUSTOMER_WRITES = "customer_writes"  # per customer session


async def admit(
    limits: RateLimits, throttle: Throttle, request: Request, *, ctx: Context, trust_proxy: bool
) -> None:
    """Raise RateLimited (a 429) when the request is over its endpoint's limit."""
    address = client_address(request, trust_proxy=trust_proxy)
    if throttle is Throttle.CONVERSATION_STARTS:
        await _limit(limits, limits.conversation_start, address)
        return
    session = session_id(request)
    real = session is not None and await _session_is_real(limits, ctx, session)
    await _limit(limits, lambda: limits.customer_write(session, real_session=real, address=address))


async def _session_is_real(limits: RateLimits, ctx: Context, session: str) -> bool:
    """Whether the session exists: remembered once the store has said so."""
    if limits.session_seen(session):
        return True
    if await run(customer.session_exists, ctx, session):
        limits.remember_session(session)
        return True
    return False


async def log_in(
    limits: RateLimits | None, ctx: Context, *, email: str, password: str, address: str | None
) -> Session:
    """accounts.login, holding a failed-login slot while bcrypt checks the password."""
    if limits is None:
        return await run_hashing(accounts.login, ctx, email=email, password=password)
    attempt = await _limit(limits, limits.login_attempt, email=email, address=address)
    session = await _counted(limits, attempt, accounts.login, ctx, email=email, password=password)
    await _limit(limits, limits.login_succeeded, attempt)
    return session


async def change_password(
    limits: RateLimits | None,
    ctx: Context,
    actor: Actor,
    *,
    current_password: str,
    new_password: str,
    address: str | None,
) -> None:
    """accounts.change_password; a wrong current password is a failed login of the
    agent's email, limited like one, so the endpoint is no side door for guessing."""
    if limits is None:
        await run_hashing(
            accounts.change_password,
            ctx,
            actor,
            current_password=current_password,
            new_password=new_password,
        )
        return
    # A new password the rules refuse is a 400 before any 429, as every 400 is.
    check_fields(new_password=password_problem(new_password))
    agent = await run(accounts.me, ctx, actor)
    attempt = await _limit(limits, limits.login_attempt, email=agent.email, address=address)
    await _counted(
        limits,
        attempt,
        accounts.change_password,
        ctx,
        actor,
        current_password=current_password,
        new_password=new_password,
    )
    await _limit(limits, limits.login_unused, attempt)


async def _counted(
    limits: RateLimits,
    attempt: LoginAttempt,
    check: Callable[..., T],
    *args: object,
    **kwargs: object,
) -> T:
    """Run a password check holding ``attempt``'s slots: a wrong password keeps them
    (and counts the rest), anything else but success gives them back."""
    try:
        return await run_hashing(check, *args, **kwargs)
    except Unauthorized:
        await _limit(limits, limits.login_failed, attempt)
        raise
    except Exception:  # refused for another reason (400, 503): nothing was guessed
        await _limit(limits, limits.login_unused, attempt)
        raise


async def _limit(limits: RateLimits, check: Callable[..., T], *args: object, **kwargs: object) -> T:
    if limits.blocking:
        return await run(check, *args, **kwargs)
    return check(*args, **kwargs)
