"""End-to-end delivery: a message posted over REST until it arrives on the other side's socket.

Against ``chatcore serve``: N conversations, each started by a customer and
escalated to one of a few online agents (so the bot stays quiet). Every agent
holds one WebSocket, every customer its own. Messages go round-robin over the
conversations, alternating direction each round: a customer POST, timed until
``message.created`` with that body reaches the holding agent's socket; an agent
POST, timed until it reaches the customer's socket.

The same shape against the bare relay (bench/relay_app.py): each conversation is
a relay id, the "agent" sockets follow N/agents ids each, a "customer" socket one
id, and ``POST /post`` forwards to both, as chatcore does with a message.

The load comes from a separate process (this module run with ``--generate``):
asyncio, open-loop. Send times are fixed in advance at the target rate, each
POST is its own task, and latency counts from the scheduled time, so a server
that answers slowly cannot slow the arrivals down and hide its queue. Every
socket checks each conversation's ``seq``: duplicated (seen twice), out of order
(lower than the last). Lost: a message whose POST succeeded that did not arrive
within the grace period.

Saturation: rates stepped up until p99 reaches 100 ms or a message is lost; the
highest step that held is the answer.

    .venv/bin/python bench/measure_delivery.py [--tiny | --full]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from http_pool import HttpPool
from server import Server, chatcore_server, relay_server
from sizes import QUICK, SIZES, Size
from stats import cdf_points, summarize
from websockets.asyncio.client import ClientConnection, connect

NAME = "delivery"
P99_LIMIT_MS = 100.0
PASSWORD = "bench-password-42"
POOL_CONNECTIONS = 100
SETUP_CONCURRENCY = 20
WARMUP_SECONDS = 1.0
LEAD_SECONDS = 0.2  # from scheduling a phase to its first send


# ----------------------------------------------------------------------------- the generator


@dataclass(slots=True)
class Sent:
    scheduled: float
    expect: int  # index of the socket it must reach
    to_agent: bool
    started: float = 0.0
    answered: float | None = None  # when a 2xx came back
    failed: bool = False
    arrived: float | None = None


@dataclass
class Lane:
    """One conversation (or relay id) and how to post into it, both ways."""

    id: str
    agent_socket: int
    customer_socket: int
    customer_post: tuple[str, dict[str, str]] = ("", {})
    agent_post: tuple[str, dict[str, str]] = ("", {})


@dataclass
class Generator:
    config: dict[str, Any]
    client: httpx.AsyncClient  # setup only
    pool: HttpPool  # the timed posts
    relay: bool
    lanes: list[Lane] = field(default_factory=list)
    sockets: list[ClientConnection] = field(default_factory=list)
    socket_urls: list[str] = field(default_factory=list)
    dead: set[int] = field(default_factory=set)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    inflight: dict[str, Sent] = field(default_factory=dict)
    last_seq: dict[tuple[int, str], int] = field(default_factory=dict)
    seen: dict[tuple[int, str], set[int]] = field(default_factory=dict)
    duplicated: int = 0
    out_of_order: int = 0
    closed_sockets: int = 0
    first_close: str | None = None

    def observe(self, sock: int, conversation: str, seq: int) -> None:
        key = (sock, conversation)
        seen = self.seen.setdefault(key, set())
        if seq in seen:
            self.duplicated += 1
            return
        seen.add(seq)
        if seq <= self.last_seq.get(key, 0):
            self.out_of_order += 1
        else:
            self.last_seq[key] = seq

    async def read(self, index: int, sock: ClientConnection) -> None:
        try:
            async for raw in sock:
                now = time.perf_counter()
                # Parse only what is checked: conversation.updated frames are most of
                # the rest, and JSON-decoding them would load the generator for nothing.
                if "message.created" not in raw[:40] and "system.subscribed" not in raw[:40]:
                    continue
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "message.created":
                    data = frame["data"]
                    self.observe(index, data["conversation_id"], data["seq"])
                    sent = self.inflight.get(data["body"])
                    if sent is not None and sent.expect == index and sent.arrived is None:
                        sent.arrived = now
                elif kind == "system.subscribed":
                    conversation = frame["conversation_id"]
                    for message in frame["data"]["messages"]:
                        self.observe(index, conversation, message["seq"])
        except Exception as error:  # pragma: no cover - reported, not raised
            self.first_close = self.first_close or f"{type(error).__name__}: {error}"
        self.closed_sockets += 1
        self.dead.add(index)
        reason = f"socket {index} closed by the server: {sock.close_code} {sock.close_reason}"
        self.first_close = self.first_close or reason

    async def reconnect(self) -> int:
        """Open again each socket the server closed (a client would); how many."""
        again = sorted(self.dead)
        self.dead.clear()
        for index in again:
            url = self.socket_urls[index]
            if "role=customer" in url:  # resume after the last seq seen: the snapshot fills in
                seen = [v for (i, _), v in self.last_seq.items() if i == index]
                url += f"&after_seq={max(seen, default=0)}"
            sock = await connect(url, ping_interval=None, compression=None, max_queue=1024)
            self.sockets[index] = sock
            self.readers.append(asyncio.create_task(self.read(index, sock)))
        return len(again)

    async def open_socket(self, url: str, hello_frames: int) -> int:
        sock = await connect(url, ping_interval=None, compression=None, max_queue=1024)
        index = len(self.sockets)
        self.sockets.append(sock)
        self.socket_urls.append(url)
        for _ in range(hello_frames):  # read the greeting before the reader takes over
            frame = json.loads(await asyncio.wait_for(sock.recv(), 30))
            if frame["type"] == "system.error":
                raise RuntimeError(f"socket refused: {frame['data']}")
            if frame["type"] == "system.subscribed":
                for message in frame["data"]["messages"]:
                    self.observe(index, frame["conversation_id"], message["seq"])
        self.readers.append(asyncio.create_task(self.read(index, sock)))
        return index

    # -- setup

    async def setup_relay(self) -> None:
        n, agents, ws = self.config["conversations"], self.config["agents"], self.config["ws_url"]
        ids = [f"relay-{k}" for k in range(n)]
        agent_sockets = []
        for a in range(agents):
            mine = ids[a::agents]
            agent_sockets.append(
                await self.open_socket(f"{ws}/ws?{urlencode({'id': mine}, True)}", 0)
            )
        for k, one in enumerate(ids):
            customer = await self.open_socket(f"{ws}/ws?{urlencode({'id': one})}", 0)
            lane = Lane(id=one, agent_socket=agent_sockets[k % agents], customer_socket=customer)
            lane.customer_post = lane.agent_post = ("/post", {})
            self.lanes.append(lane)

    async def setup_chatcore(self) -> None:
        n, agents, ws = self.config["conversations"], self.config["agents"], self.config["ws_url"]
        client = self.client

        async def ok(response: httpx.Response) -> dict[str, Any]:
            if response.status_code >= 300:
                raise RuntimeError(
                    f"{response.request.url}: {response.status_code} {response.text}"
                )
            return dict(response.json())

        async def login(email: str) -> str:
            body = {"email": email, "password": PASSWORD}
            answer = await ok(await client.post("/api/v1/agent/auth/login", json=body))
            return str(answer["access_token"])

        admin = {"email": "admin@example.com", "password": PASSWORD, "display_name": "Admin"}
        await ok(await client.post("/api/v1/agent/register", json=admin))
        admin_auth = {"Authorization": f"Bearer {await login(admin['email'])}"}
        by_agent: dict[str, tuple[int, dict[str, str]]] = {}
        for a in range(agents):
            email = f"agent{a}@example.com"
            person = {"email": email, "password": PASSWORD, "display_name": f"Agent {a}"}
            agent = await ok(
                await client.post("/api/v1/agent/register", json=person, headers=admin_auth)
            )
            token = await login(email)
            auth = {"Authorization": f"Bearer {token}"}
            presence = {"presence": "online"}
            await ok(await client.post("/api/v1/agent/presence", json=presence, headers=auth))
            query = urlencode({"role": "agent", "access_token": token})
            sock = await self.open_socket(f"{ws}/api/v1/realtime/ws?{query}", 1)
            by_agent[str(agent["id"])] = (sock, auth)

        gate = asyncio.Semaphore(SETUP_CONCURRENCY)
        lanes: list[Lane | None] = [None] * n

        async def conversation(k: int) -> None:
            async with gate:
                started = await ok(await client.post("/api/v1/customer/conversations/start"))
                cid = str(started["conversation"]["id"])
                session = {"X-Customer-Session-Id": str(started["customer_session_id"])}
                path = f"/api/v1/customer/conversations/{cid}"
                held = await ok(await client.post(f"{path}/escalate", headers=session))
                sock, auth = by_agent[str(held["assigned_agent"]["id"])]
                query = urlencode(
                    {
                        "role": "customer",
                        "conversation_id": cid,
                        "customer_session_id": session["X-Customer-Session-Id"],
                    }
                )
                customer = await self.open_socket(f"{ws}/api/v1/realtime/ws?{query}", 2)
                lane = Lane(id=cid, agent_socket=sock, customer_socket=customer)
                lane.customer_post = (f"{path}/messages", session)
                lane.agent_post = (f"/api/v1/agent/conversations/{cid}/messages", auth)
                lanes[k] = lane

        await asyncio.gather(*(conversation(k) for k in range(n)))
        self.lanes = [lane for lane in lanes if lane is not None]

    # -- one phase at one rate

    async def send(self, body: str, sent: Sent, lane: Lane) -> None:
        sent.started = time.perf_counter()
        path, headers = lane.customer_post if sent.to_agent else lane.agent_post
        payload = {"to": lane.id, "body": body} if self.relay else {"body": body}
        try:
            status = (await self.pool.post(path, payload, headers)).status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            sent.failed = True
            return
        if status in (200, 201):
            sent.answered = time.perf_counter()
        else:
            sent.failed = True

    async def phase(self, label: str, rate: float, seconds: float) -> dict[str, Any]:
        grace = float(self.config["grace_seconds"])
        count = max(1, round(rate * seconds))
        n = len(self.lanes)
        reopened = await self.reconnect()
        dup0, ooo0, closed0 = self.duplicated, self.out_of_order, self.closed_sockets
        cpu0, own0 = server_cpu(self.config["pid"]), time.process_time()
        begin = time.perf_counter() + LEAD_SECONDS
        phase: dict[str, Sent] = {}
        tasks: list[asyncio.Task[None]] = []
        for i in range(count):
            scheduled = begin + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lane = self.lanes[i % n]
            to_agent = (i // n) % 2 == 0
            sent = Sent(
                scheduled=scheduled,
                expect=lane.agent_socket if to_agent else lane.customer_socket,
                to_agent=to_agent,
            )
            body = f"bench {label} {i}"
            phase[body] = self.inflight[body] = sent
            tasks.append(asyncio.create_task(self.send(body, sent, lane)))
        sending_ended = time.perf_counter()
        deadline = max(sending_ended, begin + seconds) + grace
        _, late = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
        never_sent = self.pool.drop_queued()
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for sent in phase.values():
            if sent.answered is None:
                sent.failed = True
        while time.perf_counter() < deadline and any(  # noqa: ASYNC110 - a deadline poll
            s.arrived is None for s in phase.values() if not s.failed
        ):
            await asyncio.sleep(0.01)
        wall = time.perf_counter() - begin
        cpu1, own = server_cpu(self.config["pid"]), time.process_time() - own0
        for body in phase:
            del self.inflight[body]

        sent_all = list(phase.values())
        ok = [s for s in sent_all if not s.failed]
        arrived = [s for s in ok if s.arrived is not None]
        latencies = [s.arrived - s.scheduled for s in arrived if s.arrived is not None]
        answers = [s.answered for s in ok if s.answered is not None]
        span = (max(answers) - begin) if answers else 0.0
        result: dict[str, Any] = {
            "rate": rate,
            "seconds": seconds,
            "sent": len(sent_all),
            "post_errors": len(sent_all) - len(ok),
            "unanswered": sum(1 for s in sent_all if s.answered is None),
            "never_sent": never_sent,
            "achieved_rate": round(len(ok) / span, 1) if span > 0 else 0.0,
            "delivered": len(arrived),
            "lost": len(ok) - len(arrived),
            "duplicated": self.duplicated - dup0,
            "out_of_order": self.out_of_order - ooo0,
            "sockets_closed": self.closed_sockets - closed0,
            "sockets_reopened_before": reopened,
            **summarize(latencies),
            "to_agent": summarize(
                [s.arrived - s.scheduled for s in arrived if s.to_agent and s.arrived]
            ),
            "to_customer": summarize(
                [s.arrived - s.scheduled for s in arrived if not s.to_agent and s.arrived]
            ),
            "post": summarize([s.answered - s.started for s in ok if s.answered]),
            "send_lag_p99_ms": summarize([s.started - s.scheduled for s in sent_all])["p99_ms"],
            "server_cpu_pct": round(100 * (cpu1 - cpu0) / wall, 1) if wall > 0 else None,
            "generator_cpu_pct": round(100 * own / wall, 1) if wall > 0 else None,
            "cdf": cdf_points(latencies),
        }
        if self.first_close and (result["sockets_closed"] or reopened):
            result["first_close"] = self.first_close
        return result


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def held(step: dict[str, Any]) -> bool:
    p99 = step.get("p99_ms")
    return (
        p99 is not None
        and p99 < P99_LIMIT_MS
        and step["lost"] == 0
        and step["post_errors"] == 0
        and step["duplicated"] == 0
        and step["out_of_order"] == 0
    )


async def generate(config: dict[str, Any]) -> dict[str, Any]:
    relay = config["target"] == "relay"
    limits = httpx.Limits(
        max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS
    )
    timeout = httpx.Timeout(60.0, pool=None)
    async with httpx.AsyncClient(base_url=config["url"], limits=limits, timeout=timeout) as client:
        pool = HttpPool(config["url"], POOL_CONNECTIONS)
        await pool.start()
        gen = Generator(config=config, client=client, pool=pool, relay=relay)
        began = time.perf_counter()
        await (gen.setup_relay() if relay else gen.setup_chatcore())
        setup_seconds = time.perf_counter() - began
        rates: list[float] = config["rates"]
        await gen.phase("warmup", min(rates), WARMUP_SECONDS)
        measured = []
        for rate in rates:
            measured.append(await gen.phase(f"r{rate}", rate, config["seconds"]))
        steps: list[dict[str, Any]] = []

        async def step(rate: float) -> bool:
            done = next((m for m in measured if m["rate"] == rate), None)
            if done is None:
                done = await gen.phase(f"s{rate}", rate, config["saturation_seconds"])
            entry = {**done, "held": held(done), "reused": done in measured}
            entry.pop("cdf", None)  # the CDF plot shows the delivery rates only
            steps.append(entry)
            return bool(entry["held"])

        # Up the ladder (the delivery rates count as steps) until one fails, then halve
        # the gap between the last that held and the first that failed a few times.
        ladder = sorted({*rates, *config["saturation_rates"]})
        last_held, failed_at = 0.0, None
        for rate in ladder:
            if not await step(rate):
                failed_at = rate
                break
            last_held = rate
        for _ in range(config["refine_steps"] if failed_at is not None else 0):
            middle = round((last_held + failed_at) / 2 / 25) * 25  # type: ignore[operator]
            if middle <= last_held or middle >= failed_at:  # type: ignore[operator]
                break
            if await step(middle):
                last_held = middle
            else:
                failed_at = middle
        for task in gen.readers:
            task.cancel()
        await asyncio.gather(*gen.readers, return_exceptions=True)
        await asyncio.gather(*(sock.close() for sock in gen.sockets), return_exceptions=True)
        await pool.close()
    passed = [s["rate"] for s in steps if s["held"]]
    return {
        "conversations": len(gen.lanes),
        "agents": config["agents"],
        "sockets": len(gen.sockets),
        "setup_seconds": round(setup_seconds, 2),
        "rates": measured,
        "saturation": {
            "p99_limit_ms": P99_LIMIT_MS,
            "steps": sorted(steps, key=lambda s: float(s["rate"])),
            "highest_rate": max(passed) if passed else None,
            "first_failed_rate": failed_at,
            "limited_by_steps": failed_at is None,
        },
    }


# ----------------------------------------------------------------------------- the orchestrator


def load(target: str, server: Server, size: Size) -> dict[str, Any]:
    """Run the load generator in its own process against ``server``; its JSON result."""
    config = {
        "target": target,
        "url": server.url,
        "ws_url": server.ws_url,
        "pid": server.pid,
        "conversations": size.delivery_conversations,
        "agents": size.delivery_agents,
        "rates": list(size.delivery_rates),
        "seconds": size.delivery_seconds,
        "saturation_rates": list(size.saturation_rates),
        "saturation_seconds": size.saturation_seconds,
        "refine_steps": size.saturation_refine_steps,
        "grace_seconds": size.grace_seconds,
    }
    budget = 120 + len(size.delivery_rates) * (size.delivery_seconds + size.grace_seconds) * 2
    steps = len(size.saturation_rates) + size.saturation_refine_steps
    budget += steps * (size.saturation_seconds + size.grace_seconds) * 2
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--generate"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=budget,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator against {target} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    result["server_rss_kib"] = server.rss_kib()
    return result


def run(size: Size) -> dict[str, Any]:
    with chatcore_server() as server:
        chatcore = load("chatcore", server, size)
    with relay_server() as relay_proc:
        relay = load("relay", relay_proc, size)
    ratios = []
    for mine in chatcore["rates"]:
        theirs = next((r for r in relay["rates"] if r["rate"] == mine["rate"]), None)
        if theirs and mine["p50_ms"] and theirs["p50_ms"]:
            ratios.append(
                {
                    "rate": mine["rate"],
                    "chatcore_p50_ms": mine["p50_ms"],
                    "relay_p50_ms": theirs["p50_ms"],
                    "p50_ratio": round(mine["p50_ms"] / theirs["p50_ms"], 2),
                    "chatcore_p99_ms": mine["p99_ms"],
                    "relay_p99_ms": theirs["p99_ms"],
                }
            )
    return {
        "size": size.name,
        "conversations": size.delivery_conversations,
        "agents": size.delivery_agents,
        "chatcore": chatcore,
        "relay": relay,
        "ratios": ratios,
    }


def _print(result: dict[str, Any]) -> None:
    for target in ("chatcore", "relay"):
        part = result[target]
        print(f"{target}: {part['conversations']} conversations, setup {part['setup_seconds']} s")
        steps = [s for s in part["saturation"]["steps"] if not s["reused"]]
        for r in part["rates"] + steps:
            print(
                f"  {r['rate']:>6}/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
                f"  max {r['max_ms']} ms  achieved {r['achieved_rate']}/s  lost {r['lost']}"
                f"  dup {r['duplicated']}  ooo {r['out_of_order']}  errors {r['post_errors']}"
                f"  server CPU {r['server_cpu_pct']}%  generator CPU {r['generator_cpu_pct']}%"
                f"  sockets closed {r['sockets_closed']}"
            )
        print(f"  saturation: {part['saturation']['highest_rate']}/s")
    for ratio in result["ratios"]:
        print(f"ratio at {ratio['rate']}/s: p50 {ratio['p50_ratio']}x the relay's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    if args.generate:
        config = json.loads(sys.stdin.read())
        json.dump(asyncio.run(generate(config)), sys.stdout)
        return
    size = SIZES["tiny"] if args.tiny else SIZES["full"] if args.full else QUICK
    _print(run(size))


if __name__ == "__main__":
    main()
