"""Idle connections: how many customer WebSockets one process holds, and the memory each costs.

The logic is bench/idle_connections.py's (imported, not copied): one conversation
per socket (the realistic idle widget: one visitor, one conversation, one socket),
seeded into the database before the server starts; a warm-up; the server's resident
memory as the baseline; then N sockets opened and left idle. KiB per connection is
the growth of the server's VmRSS divided by N (after a settle); ``samples`` has the
VmRSS at 0, every tenth of N and N as they were opened, and ``kib_per_connection_slope``
the straight line through them, which bench/plots.py draws. The sockets live in a
separate process (this file run as a script), which reads the server's /proc entries
itself and prints its result as JSON.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import seed
from idle_connections import (
    SAMPLES,
    SETTLE_SECONDS,
    Opened,
    close_all,
    cpu_seconds,
    open_all,
    open_sampled,
    raise_open_files,
    rss_kib,
    slope_kib,
    still_alive,
    ws_url,
)
from server import chatcore_server
from sizes import Size
from stats import summarize

NAME = "idle"
CONCURRENCY = 50  # REST starts and handshakes at a time
WARMUP = 100


async def _measure(
    url: str, pid: int, made: list[tuple[str, str]], idle_seconds: float
) -> dict[str, Any]:
    connections = len(made) - WARMUP

    def urls(pairs: list[tuple[str, str]]) -> list[str]:
        return [
            ws_url(url, role="customer", conversation_id=c, customer_session_id=s) for c, s in pairs
        ]

    warm = Opened()
    await open_all(iter(urls(made[connections:])), 2, CONCURRENCY, warm)
    await close_all(warm.sockets)
    if warm.failures:
        raise RuntimeError(f"warm-up failed: {warm.first_error}")
    await asyncio.sleep(SETTLE_SECONDS)

    opened = Opened()
    began = time.perf_counter()
    samples = await open_sampled(urls(made[:connections]), 2, CONCURRENCY, opened, pid, SAMPLES)
    before = samples[0]["rss_kib"]
    open_seconds = time.perf_counter() - began
    await asyncio.sleep(SETTLE_SECONDS)
    after = rss_kib(pid)

    cpu_before = cpu_seconds(pid)
    await asyncio.sleep(idle_seconds)
    idle_cpu = cpu_seconds(pid) - cpu_before
    after_idle = rss_kib(pid)
    alive = await still_alive(opened.sockets)
    await close_all(opened.sockets)
    await asyncio.sleep(SETTLE_SECONDS)
    after_close = rss_kib(pid)

    count = len(opened.sockets)
    slope = slope_kib(samples)
    return {
        "connections": connections,
        "opened": count,
        "failed": opened.failures,
        "first_error": opened.first_error,
        "alive_after_idle": alive,
        "open_seconds": round(open_seconds, 2),
        "opened_per_second": round(count / open_seconds, 1) if open_seconds else None,
        "handshake": summarize(opened.handshakes),
        "rss_before_kib": before,
        "rss_open_kib": after,
        "rss_after_idle_kib": after_idle,
        "rss_after_close_kib": after_close,
        "kib_per_connection": round((after - before) / count, 2) if count else None,
        "kib_per_connection_after_idle": round((after_idle - before) / count, 2) if count else None,
        "kib_per_connection_slope": None if slope is None else round(slope, 2),
        "idle_seconds": idle_seconds,
        "idle_cpu_percent": round(100 * idle_cpu / idle_seconds, 2) if idle_seconds else None,
        "samples": samples,
    }


def child_main() -> None:
    """The load process: reads a JSON job on stdin, prints the result as its last line."""
    job = json.loads(sys.stdin.read())
    made = [(c, s) for c, s in job["conversations"]]
    raise_open_files(len(made))
    result = asyncio.run(_measure(job["url"], job["pid"], made, job["idle_seconds"]))
    print(json.dumps(result))


def run(size: Size) -> dict[str, Any]:
    connections = int(getattr(size, "idle_connections", 2_000))
    idle_seconds = float(getattr(size, "idle_seconds", 5.0))
    # The server inherits this process's open-file limit: room for N sockets there too.
    raise_open_files(connections + WARMUP)
    with tempfile.TemporaryDirectory(prefix="chatcore-idle-") as scratch:
        path = Path(scratch) / "idle.db"
        seed.create_schema(path)
        # Seeded, not started over REST (which takes a minute at 10,000): one AUTOMATED
        # conversation per socket, with one message, like a fresh chat's greeting.
        made = seed.seed_conversations(path, connections + WARMUP)
        with chatcore_server(database=path) as server:
            job = {
                "url": server.url,
                "pid": server.pid,
                "conversations": made,
                "idle_seconds": idle_seconds,
            }
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve())],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                timeout=1800,
                check=False,
            )
    if done.returncode != 0:
        raise RuntimeError(f"the idle-connection process failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    child_main()
