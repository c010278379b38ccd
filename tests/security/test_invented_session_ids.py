"""Invented customer session ids against a real ``chatcore serve`` with its limits on.

The attack: write with made-up session ids until the limiter's table of sessions
(20,000 rows) overflows and forgets a real session's count, which then starts a
fresh allowance. Made-up ids are limited per client address instead, and never take
a row of their own.

20,100 requests: pipelined over a few raw connections (written in batches, each
batch's answers read before the next), so they take seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx

from support.rest import Chat, say, start_chat
from support.serve_process import chatcore_serve

INVENTED = 20_100
CONNECTIONS = 6
BATCH = 25  # under the pipelining bound (adapters/guard): at most 32 unanswered
# The documented default: 30 customer writes per session per minute, one back every 2 s.
WRITES = 30
REFILL_SECONDS = 2.0


def _request(path: str, session_id: str) -> bytes:
    body = b'{"body": "hello"}'
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Customer-Session-Id: {session_id}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _one_connection(port: int, path: str, ids: range) -> Counter[int]:
    statuses: Counter[int] = Counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for start in range(ids.start, ids.stop, BATCH):
            batch = range(start, min(start + BATCH, ids.stop))
            writer.write(b"".join(_request(path, f"invented-{n:08d}") for n in batch))
            await writer.drain()
            for _ in batch:
                status_line = await asyncio.wait_for(reader.readline(), 30)
                statuses[int(status_line.split()[1])] += 1
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
    finally:
        writer.close()
    return statuses


async def _invented_writes(port: int, path: str) -> Counter[int]:
    share = INVENTED // CONNECTIONS + 1
    parts = [range(i * share, min((i + 1) * share, INVENTED)) for i in range(CONNECTIONS)]
    counts = await asyncio.gather(*(_one_connection(port, path, part) for part in parts))
    return sum(counts, Counter())


def _writes_allowed(client: httpx.Client, chat: Chat) -> int:
    """How many writes the session may still make now (refused ones cost nothing)."""
    for n in range(WRITES + 1):
        answer = client.post(
            f"{chat.path}/messages", json={"body": "still here"}, headers=chat.headers
        )
        if answer.status_code == 429:
            return n
        assert answer.status_code == 201, answer.text
    return WRITES + 1


def test_invented_session_ids_do_not_reset_a_real_sessions_count(tmp_path: Path) -> None:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "served.db"),
        "CHATCORE_RATE_LIMITS": "on",
        "CHATCORE_BCRYPT_ROUNDS": "4",
    }
    with (
        chatcore_serve(env, log=tmp_path / "serve.log") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        chat = start_chat(client)
        for n in range(WRITES):
            say(client, chat, f"line {n}")
        spent = time.monotonic()
        port = int(server.url.rsplit(":", 1)[1])
        statuses = asyncio.run(_invented_writes(port, f"{chat.path}/messages"))
        allowed = _writes_allowed(client, chat)
        elapsed = time.monotonic() - spent
    # The real session's spent allowance came back only with time, one write per
    # 2 s, not all at once as if it had been forgotten.
    assert elapsed < (WRITES - 2) * REFILL_SECONDS, f"too slow to tell: {elapsed:.0f} s"
    assert allowed <= int(elapsed / REFILL_SECONDS) + 1, (allowed, elapsed)
    assert sum(statuses.values()) == INVENTED
    # Per address: the first ones (and one per 2 s after) reach the use case (403, no
    # such session); the rest are refused before it.
    assert statuses[403] <= WRITES + int(elapsed / REFILL_SECONDS) + 1, statuses
    assert statuses[429] == INVENTED - statuses[403], statuses
