"""The Starlette application: the endpoint table, allowed hosts, CORS, and the one error mapper."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import Lifespan

from adapters.http import routes_admin, routes_agent, routes_customer, routes_health
from adapters.http.cors import CorsMiddleware
from adapters.http.endpoint import Endpoint, Runtime, build_routes
from adapters.http.errors import EXCEPTION_HANDLERS, ErrorGuard
from adapters.http.hosts import AllowedHosts
from adapters.http.openapi import openapi_document
from adapters.ratelimit import RateLimits
from chatcore.usecases import Context

ENDPOINTS: tuple[Endpoint, ...] = (
    *routes_customer.ENDPOINTS,
    *routes_agent.ENDPOINTS,
    *routes_admin.ENDPOINTS,
    *routes_health.ENDPOINTS,
)


def create_app(
    ctx: Context,
    *,
    readiness: Callable[[], bool],
    allowed_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = ("*",),
    trust_proxy: bool = False,
    rate_limits: RateLimits | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    lifespan: Lifespan[Starlette] | None = None,
) -> Starlette:
    """``readiness`` blocks (it asks storage): it is called in a worker thread.

    ``extra_routes`` (the WebSocket, the web pages) come after the API's own, so an
    unknown ``/api`` path is still our 404 envelope unless they claim it.
    """
    document = msgspec.json.encode(openapi_document(ENDPOINTS))
    runtime = Runtime(
        ctx,
        readiness,
        trust_proxy=trust_proxy,
        openapi=document,
        limits=rate_limits,
        allowed_origins=tuple(allowed_origins),
    )
    app = Starlette(
        routes=[*build_routes(ENDPOINTS, runtime), *extra_routes],
        middleware=[
            Middleware(AllowedHosts, allowed_hosts=allowed_hosts),
            Middleware(CorsMiddleware, allowed_origins=allowed_origins),
            Middleware(ErrorGuard),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    # A path with a slash too many is a 404 like any unknown path; Starlette would
    # redirect it to an absolute URL built from the request's Host.
    app.router.redirect_slashes = False
    return app
