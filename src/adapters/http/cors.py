"""CORS as the contract wants it, in plain ASGI so every refusal keeps our envelope.

Customer endpoints answer any origin: the widget lives on other sites. Agent and
admin endpoints answer only the configured origins; with none configured, only
the server's own pages (same origin, which needs no CORS at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.auth import SESSION_HEADER
from adapters.http.errors import error_response

CUSTOMER_PREFIX = "/api/v1/customer/"
MAX_AGE_SECONDS = "600"
EXPOSED = "Retry-After, WWW-Authenticate"
CUSTOMER_RULES = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": f"Content-Type, {SESSION_HEADER}",
}
AGENT_RULES = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
}


def _normal(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def same_origin_or_allowed(headers: Headers, allowed_origins: Sequence[str]) -> bool:
    """Whether a browser's request comes from our own pages or an allowed origin.

    No ``Origin`` at all is not a browser's cross-site request (curl, the CLI, tests).
    Our own pages send the address they were loaded from, which is the ``Host`` the
    request names; the host middleware has already refused a ``Host`` we do not serve.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    allowed = {_normal(o) for o in allowed_origins}
    if "*" in allowed or _normal(origin) in allowed:
        return True
    netloc = urlsplit(origin.strip()).netloc.lower()
    return bool(netloc) and netloc == headers.get("host", "").strip().lower()


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_origins: Sequence[str] = ()) -> None:
        self.app = app
        self.allowed = frozenset(_normal(o) for o in allowed_origins if o.strip())

    def _admits(self, origin: str, *, public: bool) -> bool:
        return public or "*" in self.allowed or _normal(origin) in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        public = str(scope["path"]).startswith(CUSTOMER_PREFIX)
        admitted = self._admits(origin, public=public)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            response = self._preflight(origin, public=public, admitted=admitted)
            await response(scope, receive, send)
        elif admitted:
            await self.app(scope, receive, self._with_headers(send, origin))
        else:  # e.g. the console's own pages: same origin, no CORS headers needed
            await self.app(scope, receive, send)

    def _preflight(self, origin: str, *, public: bool, admitted: bool) -> Response:
        if not admitted:
            response = error_response(403, "forbidden", "This origin may not call the agent API.")
            response.headers["Vary"] = "Origin"
            return response
        rules = CUSTOMER_RULES if public else AGENT_RULES
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Max-Age": MAX_AGE_SECONDS,
                "Vary": "Origin",
                **rules,
            },
        )

    def _with_headers(self, send: Send, origin: str) -> Send:
        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Access-Control-Allow-Origin"] = origin
                headers["Access-Control-Expose-Headers"] = EXPOSED
                headers.add_vary_header("Origin")
            await send(message)

        return send_with_cors
