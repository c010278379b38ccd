"""Redis for tests: the shared one (CHATCORE_TEST_REDIS), a bus driver over it, and a
redis-server of a test's own that it may stop and restart.

The shared Redis must be running: no server is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import redis

from adapters.realtime.outbound import event_to_bytes
from adapters.redis_bus import RedisEventBus, RedisListener
from chatcore.events import DomainEvent

REDIS_URL = os.environ.get("CHATCORE_TEST_REDIS", "redis://127.0.0.1:6379/0")
T = TypeVar("T")
# The time the drivers stamp on what they publish: the same bytes for the same event.
T0 = datetime(2026, 11, 25, 21, 49, 26, 123000, tzinfo=UTC)


def require_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is not reachable at {url} ({error}). These tests need it: start it "
            "(redis-server), or point CHATCORE_TEST_REDIS at a server.",
            pytrace=False,
        )


class LoopThread:
    """The server's event loop, stood in for by a loop in a thread of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class RedisDriver:
    """A publishing bus and a listener on its own loop, as one instance would have."""

    def __init__(self, url: str, **listener_options: Any) -> None:
        self.namespace = f"test{uuid.uuid4().hex[:8]}"  # other runs' events stay out
        self.loop = LoopThread()
        self.bus = RedisEventBus(
            url, encode=self.delivered, namespace=self.namespace, pause_after_failure=0.2
        )
        self.listener = self.loop.run(_make_listener(url, self.namespace, listener_options))
        self.loop.run(self.listener.start())

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.bus.publish(events)

    def subscribe(self, callback: Callable[[bytes], None]) -> Callable[[], None]:
        return self.listener.subscribe(callback)

    def delivered(self, event: DomainEvent) -> bytes:
        """What the server's bus publishes (bootstrap.py), at a fixed time: the same bytes
        for the same event, which the listener must hand on untouched."""
        return payload_of(event)

    def listen(self, channel: str) -> None:
        # The contract names channels in the default namespace; this driver has its own.
        assert self.loop.run(self.listener.listen(self._own(channel)))

    def forget(self, channel: str) -> None:
        self.loop.run(self.listener.forget(self._own(channel)))

    def _own(self, channel: str) -> str:
        return self.namespace + channel.removeprefix("chatcore")

    def close(self) -> None:
        self.loop.run(self.listener.stop())
        self.bus.close()
        self.loop.close()


async def _make_listener(url: str, namespace: str, options: dict[str, Any]) -> RedisListener:
    return RedisListener(url, namespace=namespace, **options)


def payload_of(event: DomainEvent) -> bytes:
    """An event as the server's Redis bus publishes it, stamped at the fixed time T0."""
    return event_to_bytes(event, now=T0)


def wait_until(condition: Callable[[], bool], *, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


class OwnRedis:
    """A redis-server of this test's own on a free port, which it may stop and restart."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not on PATH; the restart tests need it", pytrace=False)
        self._binary = binary
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # Nothing on disk: a restart really starts empty, as after a crash.
        command = [self._binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        self._process = subprocess.Popen(
            [*command, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client))

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def subscribers(self, channel: str) -> int:
        client = redis.Redis.from_url(self.url)
        counts: list[tuple[bytes | str, int]] = client.pubsub_numsub(channel)
        return counts[0][1]


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
