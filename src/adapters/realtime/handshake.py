"""Who is on the other end of a new socket: parse the URL, check it, in the contract's order.

401 → 400 → 404 → 403, as over REST; each refusal becomes one ``system.error``
and a close code in the 4000s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers, QueryParams
from starlette.types import Scope

from adapters.realtime.frames import (
    CLOSE_BAD_REQUEST,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHORIZED,
)
from chatcore.errors import DomainError, Forbidden, InvalidInput, NotFound, Unauthorized


class Refused(Exception):
    def __init__(self, close_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.close_code = close_code
        self.code = code
        self.message = message


def bad_request(message: str) -> Refused:
    return Refused(CLOSE_BAD_REQUEST, "bad_request", message)


# Error codes match the REST error codes; close codes are 4000 + the HTTP status.
_REFUSALS: tuple[tuple[type[DomainError], int, str], ...] = (
    (Unauthorized, CLOSE_UNAUTHORIZED, "unauthorized"),
    (InvalidInput, CLOSE_BAD_REQUEST, "bad_request"),
    (NotFound, CLOSE_NOT_FOUND, "not_found"),
    (Forbidden, CLOSE_FORBIDDEN, "forbidden"),
)


def refusal_for(error: DomainError) -> Refused:
    for kind, close_code, code in _REFUSALS:
        if isinstance(error, kind):
            return Refused(close_code, code, error.message)
    return Refused(CLOSE_BAD_REQUEST, "bad_request", error.message)


@dataclass(frozen=True, slots=True)
class Greeting:
    """The parsed query string of a new socket."""

    role: str
    conversation_id: str | None
    customer_session_id: str | None
    access_token: str | None
    raw_after_seq: str | None

    @property
    def after_seq(self) -> int:
        """Read only after the token is checked: a bad token is 4401 before a bad after_seq."""
        return _after_seq(self.raw_after_seq)


def read_greeting(scope: Scope) -> Greeting:
    # Parsed here, not through WebSocket.query_params, which would keep the parsed
    # query on the socket for as long as it is open.
    query = QueryParams(scope["query_string"])
    role = query.get("role", "")
    if role not in ("customer", "agent"):
        raise bad_request('role must be "customer" or "agent".')
    return Greeting(
        role=role,
        conversation_id=query.get("conversation_id") or None,
        customer_session_id=query.get("customer_session_id") or None,
        access_token=query.get("access_token") or None,
        raw_after_seq=query.get("after_seq"),
    )


def _after_seq(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 15:
        raise bad_request("after_seq must be a whole number, 0 or more.")
    return int(raw)


def check_customer(greeting: Greeting) -> tuple[str, str | None]:
    """A missing session is no bad request: as over REST, it is a 403 after the 404."""
    if greeting.conversation_id is None:
        raise bad_request("A customer connects to one conversation: conversation_id is required.")
    _ = greeting.after_seq  # a malformed one is a 4400 before any lookup
    return greeting.conversation_id, greeting.customer_session_id


def check_origin(scope: Scope, allowed: Sequence[str]) -> None:
    """An agent's browser may only connect from our own pages or an allowed origin.

    Without this, any site an agent visits could open a socket with the agent's
    token (cross-site WebSocket hijacking). Clients that send no Origin (not a
    browser) are let through: they hold the token themselves.
    """
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None or origin in allowed or "*" in allowed:
        return
    if urlsplit(origin).netloc.lower() == headers.get("host", "").lower():
        return
    raise Refused(CLOSE_FORBIDDEN, "forbidden", "This origin may not open an agent connection.")
