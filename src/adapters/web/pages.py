"""Serve the pages and their files, each with the security headers it needs.

No build step: what is in ``static/`` is what browsers get, except /widget.js,
which the server assembles from ``static/widget/`` once (widget_bundle.py). Pages carry a
Content-Security-Policy that forbids inline script and inline style, so even a
message that slipped into the DOM as markup could not run.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.web.widget_bundle import widget_script

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'self'; object-src 'none'"
)
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _page_headers(*, framable: bool) -> dict[str, str]:
    # The console and the front page must never be framed (clickjacking); the demo
    # shop is a plain page a business might preview in an iframe of its own.
    frames = "'self'" if framable else "'none'"
    return {**COMMON, "Content-Security-Policy": f"{CSP}; frame-ancestors {frames}"}


def _page(name: str, *, framable: bool = False) -> Route:
    headers = _page_headers(framable=framable)

    async def serve(request: Request) -> Response:
        if not (STATIC / name).is_file():  # an install without the pages: our 404, not a 500
            raise HTTPException(404)
        return FileResponse(STATIC / name, headers=headers, media_type="text/html")

    path = "/" if name == "index.html" else "/" + name.removesuffix(".html")
    return Route(path, serve, methods=["GET", "HEAD"])


async def _widget(request: Request) -> Response:
    # Loaded by <script src> from other sites: readable cross-origin, never sniffed.
    # no-cache: browsers revalidate with the ETag, so an upgrade reaches every shop at once.
    script, etag = widget_script()
    headers = {
        **COMMON,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Cache-Control": "no-cache",
        "ETag": etag,
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(script, headers=headers, media_type="text/javascript")


async def _favicon(request: Request) -> Response:
    # Browsers ask for /favicon.ico on every page; one small SVG answers them all.
    headers = {**COMMON, "Cache-Control": "max-age=86400"}
    return FileResponse(STATIC / "favicon.svg", headers=headers, media_type="image/svg+xml")


# A file under /static is a script, a style sheet or an image, never a page: opened
# on its own it may run nothing and sit in no frame.
STATIC_HEADERS = {
    **COMMON,
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
}
PAGE_SUFFIXES = (".html", ".htm")


class _StaticFiles:
    """The pages' files, with no second path to a page: each page has one, with its headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope.get("path", "")).lower().endswith(PAGE_SUFFIXES):
            raise HTTPException(404)  # our 404 envelope, as for any file not there

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in STATIC_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def web_routes() -> list[BaseRoute]:
    return [
        _page("index.html"),
        _page("demo.html", framable=True),
        _page("console.html"),
        _page("api-docs.html"),
        Route("/widget.js", _widget, methods=["GET", "HEAD"]),
        Route("/favicon.ico", _favicon, methods=["GET", "HEAD"]),
        Mount("/static", app=_StaticFiles(StaticFiles(directory=STATIC)), name="static"),
    ]
