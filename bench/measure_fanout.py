"""Fan-out: one presence change, 1,000 connected agents; how long until the last one has it.

The admin and the agents are seeded into the database before the server starts (one
bcrypt hash at 4 rounds serves them all). A separate process, this file run as a
script, logs every agent in over REST, opens one WebSocket per agent, then, round
after round, has the admin change its presence over REST and times, on every socket,
the arrival of ``agent.presence.changed``: from just before the POST until the frame
is read. Readers only look for the event's name in the raw text (no JSON parsing), so
the client adds as little as it can; one asyncio loop still reads 1,000 frames one by
one, and that reading is inside the figure.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import seed
from idle_connections import Opened, close_all, open_all, raise_open_files, ws_url
from logins import log_in
from server import chatcore_server
from sizes import Size
from stats import summarize
from websockets.asyncio.client import ClientConnection

NAME = "fanout"
CONCURRENCY = 50  # logins and handshakes at a time
ROUND_TIMEOUT_SECONDS = 30
PAUSE_SECONDS = 0.2  # between rounds: the server is idle again when the next one starts
EVENT = '"agent.presence.changed"'


class Round:
    def __init__(self, sockets: int) -> None:
        self.sockets = sockets
        self.started = 0.0
        self.arrivals: list[float] = []
        self.done = asyncio.Event()

    def arrived(self, at: float) -> None:
        self.arrivals.append(at - self.started)
        if len(self.arrivals) >= self.sockets:
            self.done.set()


async def _tokens(url: str, emails: list[str]) -> list[str]:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def login(email: str) -> str:
            async with gate:
                return await log_in(client, email, seed.PASSWORD)

        return list(await asyncio.gather(*(login(email) for email in emails)))


async def _read(sock: ClientConnection, current: list[Round]) -> None:
    try:
        async for frame in sock:
            at = time.perf_counter()
            if isinstance(frame, str) and EVENT in frame and current:
                current[0].arrived(at)
    except Exception:
        return


async def _measure(url: str, emails: list[str], admin_email: str, rounds: int) -> dict[str, Any]:
    began = time.perf_counter()
    tokens = await _tokens(url, emails)
    (admin_token,) = await _tokens(url, [admin_email])
    logged_in = time.perf_counter() - began

    opened = Opened()
    began = time.perf_counter()
    urls = (ws_url(url, role="agent", access_token=token) for token in tokens)
    await open_all(urls, 1, CONCURRENCY, opened)
    connected = time.perf_counter() - began
    if opened.failures:
        raise RuntimeError(f"{opened.failures} sockets failed: {opened.first_error}")
    sockets = opened.sockets
    current: list[Round] = []
    readers = [asyncio.create_task(_read(sock, current)) for sock in sockets]
    await asyncio.sleep(1.0)  # the connects' own work on the server is over

    lasts: list[float] = []
    medians: list[float] = []
    posts: list[float] = []
    missing = 0
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=url, timeout=60, headers=headers) as client:
        await client.get("/api/v1/agent/me")  # a warm connection for the POSTs
        for number in range(rounds):
            presence = "online" if number % 2 == 0 else "away"
            this = Round(len(sockets))
            current[:] = [this]
            this.started = time.perf_counter()
            response = await client.post("/api/v1/agent/presence", json={"presence": presence})
            posts.append(time.perf_counter() - this.started)
            response.raise_for_status()
            with suppress(TimeoutError):
                await asyncio.wait_for(this.done.wait(), ROUND_TIMEOUT_SECONDS)
            missing += len(sockets) - len(this.arrivals)
            if this.arrivals:
                lasts.append(max(this.arrivals))
                medians.append(statistics.median(this.arrivals))
            current.clear()
            await asyncio.sleep(PAUSE_SECONDS)

    for reader in readers:
        reader.cancel()
    await close_all(sockets)
    return {
        "sockets": len(sockets),
        "rounds": rounds,
        "login_seconds": round(logged_in, 2),
        "connect_seconds": round(connected, 2),
        "last_socket": summarize(lasts),
        "median_socket": summarize(medians),
        "presence_post": summarize(posts),
        "missing": missing,
    }


def child_main(argv: list[str]) -> None:
    """The load process: its argument is a JSON object, its last stdout line the result."""
    job = json.loads(argv[0])
    raise_open_files(len(job["emails"]))
    result = asyncio.run(_measure(job["url"], job["emails"], job["admin"], job["rounds"]))
    print(json.dumps(result))


def run(size: Size) -> dict[str, Any]:
    agent_count = int(getattr(size, "fanout_agents", 1_000))
    rounds = int(getattr(size, "fanout_rounds", 5))
    with tempfile.TemporaryDirectory(prefix="chatcore-fanout-") as scratch:
        path = Path(scratch) / "fanout.db"
        seed.create_schema(path)
        admin, agents = seed.seed_agents(path, agent_count)
        assert admin is not None
        with chatcore_server(database=path) as server:
            job = {
                "url": server.url,
                "emails": [a.email for a in agents],
                "admin": admin.email,
                "rounds": rounds,
            }
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), json.dumps(job)],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"the fan-out load process failed: {done.stderr[-2000:]}")
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            result["server_rss_kib"] = server.rss_kib()
    return result


if __name__ == "__main__":
    child_main(sys.argv[1:])
