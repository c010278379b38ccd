"""One declarative table drives both the routes and the OpenAPI document.

An ``Endpoint`` says what a route takes (auth, body, query), what it answers
and which refusals it may give. ``build_routes`` turns the table into Starlette
routes that do the common part in the contract's check order: who is calling
(401), then the input (413, 415, 400), then the endpoint's rate limit (429); the
handler then calls one use case, whose refusals come in the order 404, 403, 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http.auth import Auth, identify, session_id
from adapters.http.client import client_address
from adapters.http.cors import same_origin_or_allowed
from adapters.http.decoding import decode_body, decode_query, read_body, require_json
from adapters.http.errors import ApiError
from adapters.http.throttle import Throttle, admit
from adapters.ratelimit import RateLimits
from adapters.threads import run
from chatcore.usecases import Actor, Context

S = TypeVar("S", bound=msgspec.Struct)


class Audience(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Runtime:
    """What handlers may reach besides the request: wired once by create_app."""

    ctx: Context
    readiness: Callable[[], bool]
    trust_proxy: bool = False
    openapi: bytes = b"{}"
    limits: RateLimits | None = None  # None: CHATCORE_RATE_LIMITS=off
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Call:
    """One request after the common checks: the caller is known and the input is valid."""

    request: Request
    runtime: Runtime
    actor: Actor | None
    body: msgspec.Struct | None
    query: msgspec.Struct | None

    @property
    def ctx(self) -> Context:
        return self.runtime.ctx

    @property
    def agent(self) -> Actor:
        if self.actor is None:
            raise RuntimeError("This endpoint does not authenticate an agent.")
        return self.actor

    @property
    def session_id(self) -> str | None:
        return session_id(self.request)

    @property
    def client_address(self) -> str | None:
        return client_address(self.request, trust_proxy=self.runtime.trust_proxy)

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def body_as(self, kind: type[S]) -> S:
        return _as(self.body, kind)

    def query_as(self, kind: type[S]) -> S:
        return _as(self.query, kind)


def _as(value: object, kind: type[S]) -> S:
    if not isinstance(value, kind):  # the table and the handler disagree: our bug
        raise TypeError(f"expected {kind.__name__}, the endpoint decoded {type(value).__name__}")
    return value


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    audience: Audience
    auth: Auth = Auth.NONE
    status: int = 200
    response: Any = None  # a msgspec-encodable type; None: no content
    body: type[msgspec.Struct] | None = None
    body_optional: bool = False
    query: type[msgspec.Struct] | None = None
    # Other success statuses answered with the same body, and when.
    also: Mapping[int, str] = field(default_factory=dict)
    # Refusals beyond those the auth and the input already imply.
    errors: tuple[int, ...] = ()
    # The rate limit its requests count against, checked before the handler runs.
    throttle: Throttle | None = None
    # Browsers may call it only from our own pages or an allowed origin (403 else):
    # for calls that need no token, which a foreign page could otherwise make.
    own_origin_only: bool = False
    description: str = ""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    def error_statuses(self) -> list[int]:
        implied: set[int] = set(self.errors)
        if self.body is not None or self.query is not None:
            implied.add(400)
        if self.body is not None:
            implied.update((413, 415))
        if self.auth.reads_token:
            implied.add(401)
        if self.auth is Auth.SESSION or self.audience is Audience.ADMIN or self.own_origin_only:
            implied.add(403)
        if "{" in self.path:
            implied.add(404)
        if self.throttle is not None:
            implied.add(429)
        return sorted(implied)


def _serve(endpoint: Endpoint, runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        actor = None
        if endpoint.auth.reads_token:
            actor = await run(identify, endpoint.auth, runtime.ctx, request)
        body = None
        if endpoint.body is not None:
            raw = await read_body(request)
            require_json(request, raw)
            body = decode_body(raw, endpoint.body, optional=endpoint.body_optional)
        query = None
        if endpoint.query is not None:
            query = decode_query(request.query_params, endpoint.query)
        if endpoint.own_origin_only and not same_origin_or_allowed(
            request.headers, runtime.allowed_origins
        ):
            raise ApiError(403, "forbidden", "This origin may not call the agent API.")
        if endpoint.throttle is not None and runtime.limits is not None:
            await admit(
                runtime.limits,
                endpoint.throttle,
                request,
                ctx=runtime.ctx,
                trust_proxy=runtime.trust_proxy,
            )
        return await endpoint.handler(Call(request, runtime, actor, body, query))

    serve.__name__ = endpoint.operation_id
    return serve


def _route(path: str, by_method: dict[str, Callable[[Request], Awaitable[Response]]]) -> Route:
    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return Route(path, dispatch, methods=list(by_method))


def build_routes(endpoints: Sequence[Endpoint], runtime: Runtime) -> list[Route]:
    """One Route per path, so a wrong method is a 405 that lists every allowed one."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for endpoint in endpoints:
        methods = by_path.setdefault(endpoint.path, {})
        if endpoint.method in methods:
            raise ValueError(f"{endpoint.method} {endpoint.path} is declared twice")
        methods[endpoint.method] = _serve(endpoint, runtime)
    return [_route(path, methods) for path, methods in by_path.items()]
