"""Servers for tests, two ways (support/__init__.py says which test uses which):

- ``running(settings)``: chatcore as ``chatcore serve`` builds it (``build`` and
  ``uvicorn_config``), on a real loopback socket, in a thread of this process;
- ``in_process(app)``: an ASGI app called in this process through httpx, no socket,
  for contract tests where the socket is not the point.

A real ``chatcore serve`` process is support/serve_process.py. The fixtures
(``make_server``, ``live_server``) live in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from adapters.ratelimit import Limits
from chatcore.events import DomainEvent
from entrypoints.bootstrap import Chatcore, build
from entrypoints.server import uvicorn_config
from entrypoints.settings import Settings

STARTUP_TIMEOUT_SECONDS = 20
SHUTDOWN_TIMEOUT_SECONDS = 20


def free_port() -> int:
    """A loopback port free right now (for processes that bind it themselves)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    chatcore: Chatcore
    # Every event the bus published, in order (appended from worker threads).
    events: list[DomainEvent] = field(default_factory=list)

    @property
    def database(self) -> str:
        return self.chatcore.settings.database

    def events_of(self, kind: type[Any]) -> list[Any]:
        return [event for event in list(self.events) if isinstance(event, kind)]


@contextmanager
def running(settings: Settings, *, limits: Limits | None = None) -> Iterator[LiveServer]:
    """Serve ``settings`` on a loopback port picked by the kernel; stop and close after.

    ``limits``: rate limits' numbers other than the documented ones (with rate_limits on).
    """
    chatcore = build(settings, limits=limits)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
    port = listener.getsockname()[1]
    server_ = LiveServer(f"http://127.0.0.1:{port}", chatcore)
    if chatcore.bus is not None:  # with Redis there is none: ``events`` stays empty
        chatcore.bus.subscribe(server_.events.append)  # before the first request
    config = uvicorn_config(chatcore.app, settings, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield server_
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_TIMEOUT_SECONDS)
        chatcore.close()
        listener.close()
    assert not thread.is_alive(), "the server did not stop"


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server thread died while starting")
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start in time")
        time.sleep(0.01)


@contextmanager
def in_process(app: ASGIApp) -> Iterator[httpx.Client]:
    """A client that calls ``app`` in this process, no socket and no lifespan.

    A server error comes back as the 500 the app answers, as a real client would see it.
    """
    with httpx.Client(transport=_InProcess(app), base_url="http://localhost") as client:
        yield client


class _InProcess(httpx.BaseTransport):
    """httpx's ASGI transport is async only: each request runs on a loop of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return asyncio.run(call())
