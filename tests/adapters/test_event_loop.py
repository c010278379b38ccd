"""Database calls run off the event loop: a write stuck on SQLite's lock stalls nobody else.

Deterministic: another connection holds the write lock (BEGIN IMMEDIATE), so
the POST cannot finish until the test lets it. While it waits in its worker
thread, the loop must still answer a health check and a read.
"""

from __future__ import annotations

import asyncio
import sqlite3

import httpx

from adapters.sqlite.connections import BUSY_TIMEOUT_MS
from support.servers import LiveServer

# Generous: well past any noise, yet well inside the busy timeout the POST waits on.
ANSWER_TIMEOUT_SECONDS = BUSY_TIMEOUT_MS / 1000 / 2
SETTLE_SECONDS = 0.3  # lets the POST reach the lock; not a measurement


async def _while_the_write_lock_is_held(server: LiveServer) -> None:
    blocker = sqlite3.connect(server.database, isolation_level=None, timeout=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        blocker.execute("BEGIN IMMEDIATE")
        try:
            post = asyncio.create_task(client.post("/api/v1/customer/conversations/start"))
            await asyncio.sleep(SETTLE_SECONDS)

            health = await asyncio.wait_for(client.get("/healthz"), ANSWER_TIMEOUT_SECONDS)
            questions = await asyncio.wait_for(
                client.get("/api/v1/customer/quick-questions"), ANSWER_TIMEOUT_SECONDS
            )
            assert health.status_code == 200
            assert questions.status_code == 200
            assert questions.json()["items"]
            assert not post.done(), "the write should still be waiting for the lock"
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        started = await asyncio.wait_for(post, 30)
    assert started.status_code == 201, started.text
    assert started.json()["conversation"]["status"] == "automated"


def test_a_write_blocked_on_the_database_does_not_stall_the_loop(live_server: LiveServer) -> None:
    asyncio.run(_while_the_write_lock_is_held(live_server))


async def _past_the_busy_timeout(server: LiveServer) -> None:
    blocker = sqlite3.connect(server.database, isolation_level=None, timeout=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        blocker.execute("BEGIN IMMEDIATE")
        try:
            refused = await client.post(
                "/api/v1/customer/conversations/start", json={"display_name": "Lost"}
            )
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
        assert refused.headers["retry-after"] == "1"
        # Nothing half-done: the retry works and is the only conversation there is.
        retried = await client.post(
            "/api/v1/customer/conversations/start", json={"display_name": "Lost"}
        )
        assert retried.status_code == 201
    with sqlite3.connect(server.database) as check:
        assert check.execute("SELECT count(*) FROM conversations").fetchone() == (1,)


def test_a_write_locked_out_past_the_busy_timeout_is_a_503_to_retry(
    live_server: LiveServer,
) -> None:
    asyncio.run(_past_the_busy_timeout(live_server))
