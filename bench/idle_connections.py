"""What does one idle WebSocket cost the server? A measurement, not a test: it prints numbers.

Starts ``chatcore serve`` (rate limits off, a temporary database, bcrypt at 4
rounds), and from this process, a separate one, opens N WebSocket connections
that then sit idle, the way a chat widget sits on a page nobody types in.

Customer phase: N conversations are started over REST first, one per connection,
because that is the realistic idle widget: one visitor, one conversation, one
socket. Many sockets on one conversation would share its state and look cheaper
than a real crowd. The baseline is taken after the conversations exist, so the
figure is the socket alone: its handshake, system.connected, the system.subscribed
snapshot (the bot's greeting), and what the server keeps while it is open.

Agent phase (a fresh server): one agent, logged in once, opens N connections
without naming a conversation, like N open consoles. Cheap to set up, and the
other kind of socket the server holds.

For each phase it prints the server's resident memory (VmRSS from /proc) before
and after, KiB per connection, how long opening took, the server's CPU while
they sat idle (heartbeat pings included), and how many still answered a ping.

    .venv/bin/python bench/idle_connections.py [--connections 2000] [--phases customer,agent]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from serving import free_port, stop, wait_until_up
from stats import fit_line
from websockets.asyncio.client import ClientConnection, connect

CHATCORE = str(Path(sys.executable).with_name("chatcore"))
PASSWORD = "bench-password-42"
# Sockets beyond N each process needs: the database, logs, the listener, httpx.
SPARE_FILES = 200
OPEN_TIMEOUT_SECONDS = 600  # the whole opening of one phase; then the run stops
SETTLE_SECONDS = 2.0  # let the server finish what the last handshakes started
SAMPLES = 10  # RSS readings while opening: every tenth of N


@dataclass
class Opened:
    sockets: list[ClientConnection] = field(default_factory=list)
    handshakes: list[float] = field(default_factory=list)  # seconds, until the last hello frame
    failures: int = 0
    first_error: str | None = None


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS in /proc: this measurement needs Linux")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_open_files(connections: int) -> None:
    """Room for N sockets here and in the server, which inherits this limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = connections + SPARE_FILES
    if hard != resource.RLIM_INFINITY and needed > hard:
        try:  # root (as CI runs) may raise its own hard limit, up to fs.nr_open
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))
            return
        except (ValueError, OSError):
            # Not SystemExit: the suite records a failed measurement and runs the rest.
            raise RuntimeError(
                f"{connections} connections need {needed} open files; the hard limit is"
                f" {hard} (raise it with ulimit -Hn as root, or ask for fewer)"
            ) from None
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def open_all(urls: Iterator[str], frames_each: int, concurrency: int, opened: Opened) -> None:
    """Open one socket per URL, at most ``concurrency`` handshakes at a time.

    A connection counts once it has read its first ``frames_each`` frames
    (system.connected, and system.subscribed for a customer): the server has
    then done all it does for a new socket.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(url: str) -> None:
        async with gate:
            started = time.perf_counter()
            try:
                # No client pings (a browser sends none) and no compression (the
                # server refuses it anyway): the server's heartbeat is the only traffic.
                sock = await connect(url, ping_interval=None, compression=None, open_timeout=60)
                for _ in range(frames_each):
                    frame = json.loads(await asyncio.wait_for(sock.recv(), 60))
                    if frame["type"] == "system.error":
                        raise RuntimeError(f"system.error {frame['data']}")
            except Exception as error:
                opened.failures += 1
                opened.first_error = opened.first_error or f"{type(error).__name__}: {error}"
                return
            opened.handshakes.append(time.perf_counter() - started)
            opened.sockets.append(sock)

    await asyncio.gather(*(one(url) for url in urls))


async def open_sampled(
    urls: list[str], frames_each: int, concurrency: int, opened: Opened, pid: int, samples: int
) -> list[dict[str, int]]:
    """``open_all`` in ``samples`` equal slices, the server's RSS read after each.

    Returns [{"connections", "rss_kib"}], from 0 open (the baseline) to all of them,
    so a plot shows whether memory grows in a straight line (a per-socket cost) or
    in steps (buffers, the garbage collector). No pause between slices: a settle
    for each would cost seconds, and the caller settles before its final figure.
    """
    points = [{"connections": 0, "rss_kib": rss_kib(pid)}]
    bounds = sorted({round(len(urls) * k / samples) for k in range(1, samples + 1)})
    start = 0
    for end in bounds:
        await open_all(iter(urls[start:end]), frames_each, concurrency, opened)
        points.append({"connections": len(opened.sockets), "rss_kib": rss_kib(pid)})
        start = end
    return points


def slope_kib(points: list[dict[str, int]]) -> float | None:
    """KiB per connection fitted through the samples (None with fewer than two counts)."""
    fit = fit_line([float(p["connections"]) for p in points], [float(p["rss_kib"]) for p in points])
    return None if fit is None else fit[0]


async def still_alive(sockets: list[ClientConnection]) -> int:
    """How many sockets answer a ping frame with system.pong, in time."""

    async def ping(sock: ClientConnection) -> bool:
        try:
            await sock.send('{"type": "ping"}')
            while True:
                frame = json.loads(await asyncio.wait_for(sock.recv(), 30))
                if frame["type"] == "system.pong":
                    return True
        except Exception:
            return False

    answers = await asyncio.gather(*(ping(sock) for sock in sockets))
    return sum(answers)


async def close_all(sockets: list[ClientConnection]) -> None:
    gate = asyncio.Semaphore(500)

    async def close(sock: ClientConnection) -> None:
        async with gate:
            with suppress(Exception):
                await asyncio.wait_for(sock.close(), 30)

    await asyncio.gather(*(close(sock) for sock in sockets))


async def start_conversations(url: str, count: int, concurrency: int) -> list[tuple[str, str]]:
    """``count`` conversations over REST, each with its own customer session."""
    made: list[tuple[str, str]] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def start() -> None:
            async with gate:
                response = await client.post("/api/v1/customer/conversations/start")
                response.raise_for_status()
                body = response.json()
                made.append((body["conversation"]["id"], body["customer_session_id"]))

        await asyncio.gather(*(start() for _ in range(count)))
    return made


def agent_token(url: str) -> str:
    with httpx.Client(base_url=url, timeout=60) as client:
        agent = {"email": "bench@example.com", "password": PASSWORD, "display_name": "Bench"}
        client.post("/api/v1/agent/register", json=agent).raise_for_status()
        login = {"email": agent["email"], "password": PASSWORD}
        response = client.post("/api/v1/agent/auth/login", json=login)
        response.raise_for_status()
        return str(response.json()["access_token"])


def ws_url(url: str, **query: str) -> str:
    return url.replace("http://", "ws://", 1) + "/api/v1/realtime/ws?" + urlencode(query)


def kib(value: float) -> str:
    return f"{value:,.0f} KiB" if abs(value) < 10 * 1024 else f"{value / 1024:,.1f} MiB"


async def measure(
    name: str,
    pid: int,
    connections: int,
    frames_each: int,
    urls: Callable[[bool], Iterator[str]],
    args: argparse.Namespace,
    setup: Callable[[], Awaitable[str]],
) -> None:
    setup_note = await setup()
    # Warm up: the first sockets import and allocate what every later one shares.
    warm = Opened()
    await open_all(urls(True), frames_each, args.concurrency, warm)
    await close_all(warm.sockets)
    if warm.failures:
        raise SystemExit(f"{name}: warm-up failed: {warm.first_error}")
    await asyncio.sleep(SETTLE_SECONDS)

    opened = Opened()
    began = time.perf_counter()
    async with asyncio.timeout(OPEN_TIMEOUT_SECONDS):
        samples = await open_sampled(
            list(urls(False)), frames_each, args.concurrency, opened, pid, SAMPLES
        )
    before = samples[0]["rss_kib"]
    took = time.perf_counter() - began
    await asyncio.sleep(SETTLE_SECONDS)
    after = rss_kib(pid)

    cpu_before = cpu_seconds(pid)
    await asyncio.sleep(args.idle_seconds)
    idle_cpu = cpu_seconds(pid) - cpu_before
    after_idle = rss_kib(pid)
    alive = await still_alive(opened.sockets)

    await close_all(opened.sockets)
    await asyncio.sleep(SETTLE_SECONDS)
    after_close = rss_kib(pid)

    count = len(opened.sockets)
    ms = sorted(1000 * x for x in opened.handshakes) or [0.0]
    p99 = statistics.quantiles(ms, n=100)[98] if len(ms) > 1 else ms[0]
    print(f"\n{name}: {setup_note}")
    print(
        f"  opened        {count} of {connections} in {took:.1f} s ({count / took:,.0f}/s, "
        f"{args.concurrency} handshakes at a time), {opened.failures} failed"
        + (f" (first: {opened.first_error})" if opened.failures else "")
    )
    print(
        f"  one handshake p50 {statistics.median(ms):.1f} ms   p99 {p99:.1f} ms"
        f"   max {ms[-1]:.1f} ms (connect until the last hello frame)"
    )
    print(
        f"  server RSS    {kib(before)} before, {kib(after)} with them open"
        f" (+{kib(after - before)}), {kib(after_idle)} after {args.idle_seconds:g} s idle"
    )
    slope = slope_kib(samples)
    if count:
        print(
            f"  per socket    {(after - before) / count:.1f} KiB"
            f" ({(after_idle - before) / count:.1f} KiB after the idle time"
            + (f"; {slope:.1f} KiB fitted through {len(samples)} readings)" if slope else ")")
        )
    print(
        f"  idle CPU      {idle_cpu:.2f} s of server CPU in {args.idle_seconds:g} s"
        f" ({100 * idle_cpu / args.idle_seconds:.1f}% of one core; heartbeat pings included)"
    )
    print(f"  still alive   {alive} of {count} answered a ping frame")
    print(f"  after close   server RSS {kib(after_close)} once every socket was closed")


@contextmanager
def serving(scratch: Path, name: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHATCORE_RATE_LIMITS": "off",
        "CHATCORE_DATABASE": str(scratch / f"{name}.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_PORT": str(port),
    }
    with open(scratch / f"{name}.log", "wb") as log:
        server = subprocess.Popen([CHATCORE, "serve"], env=env, stdout=log, stderr=log)
        try:
            wait_until_up(url, server)
            yield url, server.pid
        finally:
            stop(server, timeout=60)


def customer_phase(url: str, pid: int, args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    n = args.connections
    made: list[tuple[str, str]] = []

    async def setup() -> str:
        began = time.perf_counter()
        made.extend(await start_conversations(url, n + args.warmup, args.concurrency))
        return (
            f"{n} customer sockets, one conversation each (started over REST in "
            f"{time.perf_counter() - began:.1f} s before the baseline)"
        )

    def urls(warmup: bool) -> Iterator[str]:
        # The warm-up has conversations of its own, after the N measured ones.
        for conversation_id, session in made[n:] if warmup else made[:n]:
            yield ws_url(
                url, role="customer", conversation_id=conversation_id, customer_session_id=session
            )

    return measure("customers", pid, n, 2, urls, args, setup)


def agent_phase(url: str, pid: int, args: argparse.Namespace) -> Coroutine[Any, Any, None]:
    n = args.connections
    token: list[str] = []

    async def setup() -> str:
        token.append(await asyncio.to_thread(agent_token, url))
        return f"{n} agent sockets of one logged-in agent, no conversation named"

    def urls(warmup: bool) -> Iterator[str]:
        for _ in range(args.warmup if warmup else n):
            yield ws_url(url, role="agent", access_token=token[0])

    return measure("agents", pid, n, 1, urls, args, setup)


PHASES = {"customer": customer_phase, "agent": agent_phase}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--phases", default="customer,agent", help="customer, agent or both")
    parser.add_argument("--concurrency", type=int, default=50, help="handshakes at a time")
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="one heartbeat period")
    parser.add_argument("--warmup", type=int, default=100, help="sockets opened and closed first")
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise SystemExit(f"unknown phase(s): {', '.join(sorted(unknown))}")
    raise_open_files(args.connections + args.warmup)
    print(
        f"chatcore idle connections: {args.connections} per phase, {os.cpu_count()} CPUs, "
        f"open-file limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="chatcore-bench-") as scratch:
        for name in phases:
            with serving(Path(scratch), name) as (url, pid):
                asyncio.run(PHASES[name](url, pid, args))


if __name__ == "__main__":
    main()
