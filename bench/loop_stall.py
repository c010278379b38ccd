"""Does a flood of writes stall the event loop? A measurement, not a test: it prints numbers.

Starts ``chatcore serve`` (rate limits off, a temporary database, bcrypt at 4
rounds), then probes GET /healthz every 10 ms from a separate process, first
alone, then while N customers post messages as fast as they can. If database
work ran on the loop, the probe latency under flood would jump to the length
of the write queue; off the loop it stays near the idle figure.

    .venv/bin/python bench/loop_stall.py [--clients 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from serving import free_port, wait_until_up

CHATCORE = str(Path(sys.executable).with_name("chatcore"))
QUESTION = "How do I reset my password?"


@dataclass
class Flood:
    posts: int = 0
    errors: int = 0


def probe(url: str, start_at: float, seconds: float, interval: float) -> list[float]:
    """Latencies (s) of GET /healthz sent every ``interval`` on one keep-alive connection."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/healthz")  # connect before the clock starts
        time.sleep(max(0.0, start_at - time.time()))
        begin = time.perf_counter()
        tick = 0
        while time.perf_counter() - begin < seconds:
            sent = time.perf_counter()
            client.get("/healthz").raise_for_status()
            latencies.append(time.perf_counter() - sent)
            tick += 1
            time.sleep(max(0.0, begin + tick * interval - time.perf_counter()))
    return latencies


async def customer(url: str, deadline: float, flood: Flood) -> None:
    # One client (one connection) per customer: a shared httpx pool of many
    # connections costs the load generator more CPU than the server spends.
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        started = (await client.post("/api/v1/customer/conversations/start")).json()
        path = f"/api/v1/customer/conversations/{started['conversation']['id']}/messages"
        headers = {"X-Customer-Session-Id": started["customer_session_id"]}
        while time.perf_counter() < deadline:
            response = await client.post(path, json={"body": QUESTION}, headers=headers)
            if response.status_code == 201:
                flood.posts += 1
            else:
                flood.errors += 1


async def flood_for(url: str, start_at: float, seconds: float, clients: int) -> Flood:
    flood = Flood()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(customer(url, deadline, flood) for _ in range(clients)))
    return flood


def summary(name: str, latencies: list[float]) -> str:
    ms = sorted(1000 * x for x in latencies)
    p99 = statistics.quantiles(ms, n=100)[98]
    return (
        f"{name:<14} probes {len(ms):>5}   p50 {statistics.median(ms):7.2f} ms"
        f"   p99 {p99:7.2f} ms   max {ms[-1]:7.2f} ms"
    )


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, pid: int, *, clients: int, seconds: float, interval: float) -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        start_at = time.time() + 1.0
        idle = pool.submit(probe, url, start_at, seconds, interval).result()
        start_at = time.time() + 1.0
        loaded = pool.submit(probe, url, start_at, seconds, interval)
        cpu_before, own_before = cpu_seconds(pid), time.process_time()
        flood = asyncio.run(flood_for(url, start_at, seconds, clients))
        cpu_after, own_used = cpu_seconds(pid), time.process_time() - own_before
        busy = loaded.result()
    print(
        f"chatcore loop stall: {clients} flooding customers, {seconds:g} s per phase, "
        f"probe every {interval * 1000:g} ms, {os.cpu_count()} CPUs"
    )
    print(summary("idle", idle))
    print(summary("under flood", busy))
    print(
        f"flood          {flood.posts} messages posted ({flood.posts / seconds:.0f}/s, "
        f"{2 * flood.posts / seconds:.0f} stored/s with the bot's replies), "
        f"{flood.errors} errors"
    )
    if cpu_before is not None and cpu_after is not None and flood.posts:
        used = cpu_after - cpu_before
        print(
            f"server CPU     {used:.2f} s during the flood ({100 * used / seconds:.0f}% of one "
            f"core), {1000 * used / flood.posts:.2f} ms per message posted"
        )
    print(f"flood clients  {own_used:.2f} s of CPU in this process (the load generator)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=0.01, help="probe period (s)")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="chatcore-bench-") as scratch:
        env = {
            **os.environ,
            "CHATCORE_RATE_LIMITS": "off",
            "CHATCORE_DATABASE": str(Path(scratch) / "bench.db"),
            "CHATCORE_BCRYPT_ROUNDS": "4",
            "CHATCORE_PORT": str(port),
        }
        with open(Path(scratch) / "server.log", "wb") as log:
            server = subprocess.Popen([CHATCORE, "serve"], env=env, stdout=log, stderr=log)
            try:
                wait_until_up(url, server)
                timing = {"seconds": args.seconds, "interval": args.interval}
                measure(url, server.pid, clients=args.clients, **timing)
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
