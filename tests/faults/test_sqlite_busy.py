"""Fault: another process holds the SQLite database's lock while chatcore serves.

A server in this process (support/servers.py) with its busy timeout lowered from 5 s
to 1 s, so the test is quick; the behaviour is the same at any timeout. Another
process opens the file with Python's sqlite3, as an operator's script or the
``sqlite3`` shell would, and holds a lock until the test lets go.

- The write lock (``BEGIN IMMEDIATE``) for less than the busy timeout: writes
  wait for it and succeed; reads never wait (WAL).
- The write lock for longer: every write is answered 503 ``unavailable`` with
  Retry-After, within about two busy timeouts even when many arrive at once (not
  one timeout more for each writer queued inside the process), never a 500.
  Reads, ``/readyz`` and a customer's WebSocket handshake still work; an agent's
  handshake, which records the connection, is refused with ``system.error``
  ``unavailable`` and close code 1013. After the release, everything works and
  every acknowledged message is stored once.
- An agent whose only socket closes during the hold (its departure cannot be
  recorded then) is not held online for ever: the departure is recorded after
  the release, and the grace period runs out.

Readers are never locked out while chatcore runs: in WAL mode only a connection
in ``locking_mode = EXCLUSIVE`` could do that, and it cannot take its lock while
chatcore's own connections have the database open (tried: it waits, then fails).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
import pytest

from adapters.sqlite import connections
from support.faults import (
    HeldChat,
    Ledger,
    Speaker,
    assert_unavailable,
    check_history,
    history,
    post_recorded,
    retry_all,
    setup_chats,
    speakers_of,
)
from support.rest import bearer, customer_headers
from support.servers import LiveServer
from support.ws import agent_url, connect, customer_url, refused, run

BUSY_SECONDS = 1.0
# One busy timeout waiting for the lock inside the process, one waiting for SQLite's.
ANSWER_WITHIN = 2 * BUSY_SECONDS + 1.0

GRACE_SECONDS = 1

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE faqs SET position = position")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


@contextmanager
def _locked(database: str) -> Iterator[None]:
    """Another process holds the lock from entry until exit."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "locked", holder.communicate(timeout=10)
        yield
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(10) == 0


@pytest.fixture
def server(
    make_server: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> tuple[LiveServer, list[HeldChat]]:
    monkeypatch.setattr(connections, "BUSY_TIMEOUT_MS", int(BUSY_SECONDS * 1000))
    live = make_server(rate_limits=False, presence_grace_seconds=GRACE_SECONDS)
    _, chats = setup_chats(live.url, 2)
    return live, chats


def test_a_short_hold_is_waited_out(server: tuple[LiveServer, list[HeldChat]]) -> None:
    live, chats = server
    run(_short_hold(live, chats), within=60)


async def _short_hold(live: LiveServer, chats: list[HeldChat]) -> None:
    ledger = Ledger()
    speakers = speakers_of(chats)
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        with _locked(live.database):
            started = time.monotonic()
            writes = [_post(http, ledger, s, f"{s.name}-short") for s in speakers]
            pending = asyncio.gather(*writes)
            # Reads do not wait for the writer (WAL).
            read = await http.get(
                f"/api/v1/customer/conversations/{chats[0].id}/messages",
                headers=customer_headers(chats[0].session),
            )
            assert read.status_code == 200, read.text
            assert time.monotonic() - started < BUSY_SECONDS / 2
            await asyncio.sleep(BUSY_SECONDS / 2)
        statuses = await pending
        assert statuses == [201] * len(speakers), statuses
        for chat in chats:
            check_history(chat, await history(http, chat), ledger)


def test_a_long_hold_is_a_quick_503_and_then_passes(
    server: tuple[LiveServer, list[HeldChat]],
) -> None:
    live, chats = server
    report = run(_long_hold(live, chats), within=90)
    print(f"\nSQLite write lock held past the busy timeout: {report}")


async def _long_hold(live: LiveServer, chats: list[HeldChat]) -> dict[str, Any]:
    ledger = Ledger()
    speakers = speakers_of(chats)
    chat = chats[0]
    report: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
        connect(agent_url(live.url, chat.token), name="agent leaving") as leaving,
    ):
        await leaving.ping()  # answered once its handshake, the connection counted, is done
        with _locked(live.database):
            # Eight writes at once, twice the worker threads' worth of escalations too.
            timed = await asyncio.gather(
                *(
                    _timed(partial(post_recorded, http, ledger, s, f"{s.name}-long{n}"))
                    for s in speakers
                    for n in range(2)
                )
            )
            took = [t for _, t in timed]
            for response, _ in timed:
                assert_unavailable(response)
            assert max(took) < ANSWER_WITHIN, f"8 writes answered after {took} s"
            report["8 writes answered after (s)"] = took

            read = await http.get(
                f"/api/v1/customer/conversations/{chat.id}/messages",
                headers=customer_headers(chat.session),
            )
            assert read.status_code == 200, read.text
            assert (await http.get("/readyz")).status_code == 200

            # Sockets: a customer only reads; an agent's connection is recorded (a write).
            async with connect(customer_url(live.url, chat.id, chat.session)) as customer_ws:
                await customer_ws.next_frame("system.subscribed")
            frames, code = await refused(agent_url(live.url, chat.token))
            errors = [f["data"]["code"] for f in frames if f["type"] == "system.error"]
            assert (errors, code) == (["unavailable"], 1013), (frames, code)
            await leaving.close()  # the agent's only socket: its departure waits too

        # Released: everything works, nothing was stored twice.
        for speaker in speakers:
            assert await _post(http, ledger, speaker, f"{speaker.name}-after") == 201
        async with connect(agent_url(live.url, chat.token, conversation_id=chat.id)) as agent_ws:
            await agent_ws.next_frame("system.subscribed")
        unknown = len(ledger.unknown)
        outcomes = await retry_all(http, ledger)
        assert outcomes == {"201": unknown}, outcomes  # refused, so never stored
        for each in chats:
            check_history(each, await history(http, each), ledger)

        # The agent who left is not held online for ever.
        left = time.monotonic()
        while (presence := await _presence(http, chat)) != "offline":
            assert time.monotonic() - left < GRACE_SECONDS + 8, f"the agent stays {presence}"
            await asyncio.sleep(0.2)
        report["agent offline after (s)"] = round(time.monotonic() - left, 2)
    return report


async def _presence(http: httpx.AsyncClient, chat: HeldChat) -> str:
    me = await http.get("/api/v1/agent/me", headers=bearer(chat.token))
    assert me.status_code == 200, me.text
    return str(me.json()["presence"])


async def _timed(
    request: Callable[[], Awaitable[httpx.Response]],
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await request()
    return response, round(time.monotonic() - started, 2)


async def _post(http: httpx.AsyncClient, ledger: Ledger, speaker: Speaker, key: str) -> int:
    return (await post_recorded(http, ledger, speaker, key)).status_code
