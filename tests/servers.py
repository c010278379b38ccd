"""Real servers for tests: uvicorn on a loopback port, serving build(settings).

The fixtures live in tests/conftest.py; this module holds what tests import by name.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from adapters.ratelimit import Limits
from chatcore.events import DomainEvent
from entrypoints.bootstrap import Chatcore, build
from entrypoints.server import uvicorn_config
from entrypoints.settings import Settings

STARTUP_TIMEOUT_SECONDS = 20
SHUTDOWN_TIMEOUT_SECONDS = 20


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
