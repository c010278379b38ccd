"""Real servers for adapter tests: uvicorn on a loopback port, serving build(settings).

``make_server(**overrides)`` starts one with Settings fields overridden (native
values: ``agent_capacity=2``, ``rate_limits=False``); ``live_server`` is one with
the defaults. Each has its own SQLite file in tmp_path and bcrypt at 4 rounds.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))  # so tests can `import helpers`

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
def running(settings: Settings) -> Iterator[LiveServer]:
    """Serve ``settings`` on a loopback port picked by the kernel; stop and close after."""
    chatcore = build(settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
    port = listener.getsockname()[1]
    server_ = LiveServer(f"http://127.0.0.1:{port}", chatcore)
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


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    numbers = count()
    with ExitStack() as stack:

        def make(**overrides: Any) -> LiveServer:
            base = Settings(
                database=str(tmp_path / f"chatcore-{next(numbers)}.db"), bcrypt_rounds=4
            )
            return stack.enter_context(running(replace(base, **overrides)))

        yield make


@pytest.fixture
def live_server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()
