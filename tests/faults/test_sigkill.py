"""Fault: the server killed with SIGKILL in the middle of a message flood, then restarted.

A real ``chatcore serve`` process (SQLite file; then a PostgreSQL database) holds
four escalated chats. Their customers and their agent post as fast as they are
answered, eight clients at once, each message with a ``client_message_id``.
After 300 acknowledged messages the process gets SIGKILL: no shutdown, requests
in flight cut. A new process on the same storage must then show:

- every message that got a 2xx, exactly once, under the seq it was given, with
  each chat's seq dense from 1 (nothing lost, no hole, no duplicate);
- every message posted again with its key answering 200 with the same message
  if it was stored (acknowledged, or committed just before the kill without an
  answer) and 201 otherwise, and the history still holding each key once.

SQLite runs in WAL mode with synchronous=NORMAL: a commit is in the WAL (the OS
has it) before the 201 leaves, so only a power cut, not a killed process, could
lose it. PostgreSQL on the shared test server (tests/support/postgres.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from support.faults import (
    HeldChat,
    Ledger,
    check_history,
    history,
    retry_all,
    setup_chats,
    speakers_of,
    talk,
)
from support.postgres import scratch_database, url_for
from support.serve_process import Instance, scale_out_instance
from support.ws import run

CHATS = 4  # eight clients: a customer and the agent in each
KILL_AFTER = 300  # acknowledged messages


def test_a_killed_sqlite_server_loses_no_acknowledged_message(tmp_path: Path) -> None:
    _kill_and_restart(str(tmp_path / "chatcore.db"), tmp_path)


def test_a_killed_postgres_server_loses_no_acknowledged_message(tmp_path: Path) -> None:
    with _postgres() as database:
        _kill_and_restart(database, tmp_path)


@contextmanager
def _postgres() -> Iterator[str]:
    with scratch_database() as name:
        yield url_for(name)


def _kill_and_restart(database: str, scratch: Path) -> None:
    namespace = f"kill{uuid.uuid4().hex[:8]}"
    with scale_out_instance(database, "", namespace, scratch, "before") as before:
        _, chats = setup_chats(before.url, CHATS)
        ledger = run(_flood_then_kill(before, chats), within=120)
    assert before.process.returncode == -9, before.process.returncode
    acked, unknown = len(ledger.acked), len(ledger.unknown)
    assert acked >= KILL_AFTER, ledger.statuses
    with scale_out_instance(database, "", namespace, scratch, "after") as after:
        outcomes = run(_check_after_restart(after, chats, ledger), within=120)
    print(
        f"\n{database.split('/')[-1]}: {acked} acknowledged before SIGKILL, {unknown} cut off"
        f" ({dict(ledger.statuses)}); after restart all {acked} there once; retried unknown:"
        f" {dict(outcomes)} (200 = stored before the kill without an answer)"
    )


async def _flood_then_kill(before: Instance, chats: list[HeldChat]) -> Ledger:
    ledger = Ledger()
    stop = asyncio.Event()

    def maybe_kill() -> None:
        if len(ledger.acked) == KILL_AFTER:
            before.process.kill()  # SIGKILL, while the other seven wait for answers

    limits = httpx.Limits(max_connections=len(chats) * 2)
    async with httpx.AsyncClient(base_url=before.url, timeout=10, limits=limits) as http:
        # Each client stops at its first failure: after the kill that is all of them.
        await asyncio.gather(
            *(talk(http, s, ledger, stop=stop, on_ack=maybe_kill) for s in speakers_of(chats))
        )
    await asyncio.to_thread(before.process.wait, 10)
    return ledger


async def _check_after_restart(
    after: Instance, chats: list[HeldChat], ledger: Ledger
) -> Counter[str]:
    async with httpx.AsyncClient(base_url=after.url, timeout=30) as http:
        for chat in chats:
            check_history(chat, await history(http, chat), ledger)
        outcomes = await retry_all(http, ledger)
        for chat in chats:
            items = await history(http, chat)
            check_history(chat, items, ledger)  # now every key, acknowledged at last
    return outcomes
