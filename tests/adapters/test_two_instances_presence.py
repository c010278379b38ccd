"""Presence across two real ``chatcore serve`` processes sharing PostgreSQL and Redis.

Each instance counts the agent connections it holds. An agent connected through
A and B stays online when A crashes; an agent connected only through A goes
offline once A has been silent for the instance timeout and the grace period has
run; and restarting B leaves A's agents alone. Timeouts are cut to seconds here.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

from support.postgres import scratch_database, url_for
from support.redis_server import REDIS_URL, require_redis
from support.rest import first_admin, go_online, hire
from support.rest_async import me, rest
from support.serve_process import Instance, scale_out_instance
from support.ws import agent_url, connect, run

GRACE_SECONDS = 2
TIMEOUT_SECONDS = 2
FAST = {
    "CHATCORE_PRESENCE_GRACE_SECONDS": str(GRACE_SECONDS),
    "CHATCORE_INSTANCE_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
}
# Long enough for the silence to be noticed, the grace to run and a sweep to see it.
SETTLE_SECONDS = TIMEOUT_SECONDS + GRACE_SECONDS + 3


def counted(database: str, agent_id: str) -> int:
    """The agent's connections as the store has them, on every instance together."""
    with psycopg.connect(database, autocommit=True) as conn:
        row = conn.execute("SELECT connections FROM agents WHERE id = %s", [agent_id]).fetchone()
    assert row is not None
    return int(row[0])


async def until(check: Callable[[], bool], what: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.05)


async def presence_of(url: str, token: str) -> str:
    async with rest(url) as http:
        return str((await me(http, token))["presence"])


def with_two_instances(scenario: Callable[[str, Path, ExitStack], Awaitable[None]]) -> None:
    require_redis(REDIS_URL)
    with (
        scratch_database() as name,
        tempfile.TemporaryDirectory(prefix="chatcore-presence-") as scratch,
        ExitStack() as stack,
    ):
        run(scenario(url_for(name), Path(scratch), stack), within=120)


def start(database: str, scratch: Path, stack: ExitStack, name: str, namespace: str) -> Instance:
    return stack.enter_context(
        scale_out_instance(database, REDIS_URL, namespace, scratch, name, env_extra=FAST)
    )


def test_a_crash_takes_only_the_connections_it_held() -> None:
    async def scenario(database: str, scratch: Path, stack: ExitStack) -> None:
        namespace = f"test{uuid.uuid4().hex[:12]}"
        a = start(database, scratch, stack, "a", namespace)
        b = start(database, scratch, stack, "b", namespace)
        with httpx.Client(base_url=b.url, timeout=30) as http:
            both = first_admin(http)  # connected through A and B
            only_a = hire(http, both)  # connected through A only
            for account in (both, only_a):
                go_online(http, account)
        async with (
            connect(agent_url(a.url, both.token), name="both@A"),
            connect(agent_url(b.url, both.token), name="both@B") as both_on_b,
            connect(agent_url(a.url, only_a.token), name="only_a@A"),
        ):
            await until(lambda: counted(database, both.id) == 2, "both counted twice")
            await until(lambda: counted(database, only_a.id) == 1, "only_a counted")
            a.process.kill()  # SIGKILL: no goodbye, no disconnects recorded
            a.process.wait()
            await until(lambda: counted(database, both.id) == 1, "B lets A's count go")
            await asyncio.sleep(SETTLE_SECONDS)
            assert await presence_of(b.url, both.token) == "online", b.tail()
            assert await presence_of(b.url, only_a.token) == "offline", b.tail()
            assert counted(database, only_a.id) == 0
            # The surviving connection is the one that matters: when it goes, so does she.
            await both_on_b.close()
            await until(lambda: counted(database, both.id) == 0, "B's disconnect counted")
            await asyncio.sleep(GRACE_SECONDS + 1.5)
            assert await presence_of(b.url, both.token) == "offline", b.tail()

    with_two_instances(scenario)


def test_restarting_one_instance_leaves_the_others_agents_alone() -> None:
    async def scenario(database: str, scratch: Path, stack: ExitStack) -> None:
        namespace = f"test{uuid.uuid4().hex[:12]}"
        a = start(database, scratch, stack, "a", namespace)
        with httpx.Client(base_url=a.url, timeout=30) as http:
            admin = first_admin(http)
            go_online(http, admin)
        async with connect(agent_url(a.url, admin.token), name="admin@A"):
            await until(lambda: counted(database, admin.id) == 1, "counted on A")
            # B starts, stops cleanly, and starts again (a new instance): twice it goes
            # through start-up, which once forgot every instance's counts.
            with ExitStack() as first_b:
                start(database, scratch, first_b, "b1", namespace)
            b = start(database, scratch, stack, "b2", namespace)
            await asyncio.sleep(SETTLE_SECONDS)
            assert counted(database, admin.id) == 1
            assert await presence_of(b.url, admin.token) == "online", b.tail()
            assert await presence_of(a.url, admin.token) == "online", a.tail()

    with_two_instances(scenario)


def test_an_instance_given_up_for_dead_has_its_sockets_reconnect() -> None:
    """Paused past the timeout (SIGSTOP), not dead: back, it learns it was given up and
    closes its sockets with 1013, so that they reconnect and are counted again."""

    async def scenario(database: str, scratch: Path, stack: ExitStack) -> None:
        namespace = f"test{uuid.uuid4().hex[:12]}"
        a = start(database, scratch, stack, "a", namespace)
        start(database, scratch, stack, "b", namespace)
        with httpx.Client(base_url=a.url, timeout=30) as http:
            admin = first_admin(http)
            go_online(http, admin)
        async with connect(agent_url(a.url, admin.token), name="admin@A") as on_a:
            await until(lambda: counted(database, admin.id) == 1, "counted on A")
            a.process.send_signal(signal.SIGSTOP)
            try:
                await until(lambda: counted(database, admin.id) == 0, "B gives A up")
            finally:
                a.process.send_signal(signal.SIGCONT)
            assert await on_a.wait_closed(within=10) == 1013, a.tail()
        async with connect(agent_url(a.url, admin.token), name="admin@A again"):
            await until(lambda: counted(database, admin.id) == 1, "counted again on A")
        assert "given up for dead" in a.tail()

    with_two_instances(scenario)
