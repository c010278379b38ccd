"""Who is calling: the bearer token of agents, the session header of customers."""

from __future__ import annotations

from enum import Enum

from starlette.requests import Request

from chatcore.errors import Unauthorized
from chatcore.usecases import Actor, Context, accounts

SESSION_HEADER = "X-Customer-Session-Id"


class Auth(Enum):
    """What an endpoint needs to know about its caller before it reads any input."""

    NONE = "none"
    SESSION = "session"  # X-Customer-Session-Id; a missing or foreign one is a 403
    OPTIONAL_SESSION = "optional_session"
    BEARER = "bearer"
    BEARER_UNLESS_SETUP = "bearer_unless_setup"  # register: no token before the first agent

    @property
    def reads_token(self) -> bool:
        return self in (Auth.BEARER, Auth.BEARER_UNLESS_SETUP)


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``; None without the header, else 401."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthorized("The Authorization header must be: Bearer <access_token>.")
    return token


def session_id(request: Request) -> str | None:
    return request.headers.get(SESSION_HEADER) or None


def identify(auth: Auth, ctx: Context, request: Request) -> Actor | None:
    """Blocking (the token is checked against storage): run it in a worker thread."""
    if auth is Auth.BEARER:
        return accounts.authenticate(ctx, bearer_token(request))
    if auth is Auth.BEARER_UNLESS_SETUP:
        return accounts.registrar(ctx, bearer_token(request))
    return None
