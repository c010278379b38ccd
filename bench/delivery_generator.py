"""The delivery load generator: its own process (``measure_delivery.py --generate``).

It reads its config as JSON on stdin and writes its result as JSON on stdout.
Open-loop: send times are fixed in advance at the target rate, each POST is its
own task on a pool of keep-alive connections, and latency counts from the
scheduled send. Every socket checks each conversation's ``seq`` for duplicates
and reordering; a message whose POST succeeded but that never arrived within
the grace period is lost. After the delivery rates it climbs the saturation
ladder (ladder.py) with the same phases.

Two servers (measure_scaleout.py): with ``agent_url`` / ``agent_ws_url`` in the
config, the agents log in, hold their sockets and post on that one, the customers
on ``url``; each server has its own pool of keep-alive connections. ``agent_pid``
is the second server's process, ``watch`` more processes by label (Redis, say)
and ``postgresql`` the database whose backends to count: their CPU is reported
beside the server's, as ``<label>_cpu_pct`` and ``<label>_cpu_sending_pct``.
Without these keys it runs exactly as against one server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from delivery_setup import Lane, setup_chatcore, setup_relay
from http_pool import HttpPool
from ladder import climb, held, saturation
from stats import cdf_points, summarize
from usage import Others, Usage, server_cpu
from websockets.asyncio.client import ClientConnection, connect

POOL_CONNECTIONS = 100
WARMUP_SECONDS = 1.0
LEAD_SECONDS = 0.2  # from scheduling a phase to its first send
AGENT_SERVER = "agent_server"  # the second server's label in the CPU figures


@dataclass(slots=True)
class Sent:
    scheduled: float
    expect: int  # index of the socket it must reach
    to_agent: bool
    started: float = 0.0
    answered: float | None = None  # when a 2xx came back
    failed: bool = False
    arrived: float | None = None

    def latency(self) -> float:
        """Seconds from the scheduled send, or from the real one if that came first:
        uvloop's timers count whole milliseconds and wake up to one early, and a
        send before its time must not take that off its latency."""
        origin = min(self.scheduled, self.started) if self.started else self.scheduled
        return (self.arrived or origin) - origin


@dataclass
class Generator:
    config: dict[str, Any]
    client: httpx.AsyncClient  # setup only
    pool: HttpPool  # the timed posts
    relay: bool
    # The agents' side: the same client and pool as above, unless a second server.
    agent_client: httpx.AsyncClient
    agent_pool: HttpPool
    database: psycopg.Connection[tuple[Any, ...]] | None = None  # to find its backends
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
    disorders: list[str] = field(default_factory=list)  # each out-of-order arrival, said

    def observe(self, sock: int, conversation: str, seq: int) -> None:
        key = (sock, conversation)
        seen = self.seen.setdefault(key, set())
        if seq in seen:
            self.duplicated += 1
            return
        seen.add(seq)
        if seq <= self.last_seq.get(key, 0):
            self.out_of_order += 1
            role = "customer" if "role=customer" in self.socket_urls[sock] else "agent"
            self.disorders.append(
                f"{role} socket {sock}, conversation {conversation}: seq {seq} after "
                f"{self.last_seq[key]}"
            )
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

    # -- one phase at one rate

    def pools(self) -> list[HttpPool]:
        return [self.pool] if self.agent_pool is self.pool else [self.pool, self.agent_pool]

    def watched(self) -> dict[str, list[int]]:
        """The other processes whose CPU a phase reads, by label (none against one server
        on SQLite): the agents' server, PostgreSQL's backends of the database, Redis."""
        extra: dict[str, list[int]] = self.config.get("watch", {})
        watch = {label: [int(pid) for pid in pids] for label, pids in extra.items()}
        if self.config.get("agent_pid"):
            watch[AGENT_SERVER] = [int(self.config["agent_pid"])]
        if self.database is not None:
            rows = self.database.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                (self.config["postgresql"]["database"],),
            ).fetchall()
            watch["postgresql"] = [int(row[0]) for row in rows]
        return watch

    async def send(self, body: str, sent: Sent, lane: Lane) -> None:
        sent.started = time.perf_counter()
        path, headers = lane.customer_post if sent.to_agent else lane.agent_post
        payload = {"to": lane.id, "body": body} if self.relay else {"body": body}
        # A customer's post goes to the customers' server, an agent's to the agents'.
        pool = self.pool if sent.to_agent else self.agent_pool
        try:
            status = (await pool.post(path, payload, headers)).status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            sent.failed = True
            return
        if status in (200, 201):
            sent.answered = time.perf_counter()
        else:
            sent.failed = True

    async def phase(self, label: str, rate: float, seconds: float) -> dict[str, Any]:
        """``rate`` messages a second for ``seconds``, open-loop, and what became of them."""
        # A collection in the generator mid-phase would pause it, and the pause would
        # count as the server's latency: collect before, none during.
        gc.collect()
        gc.disable()
        try:
            return await self.timed_phase(label, rate, seconds)
        finally:
            gc.enable()

    async def timed_phase(self, label: str, rate: float, seconds: float) -> dict[str, Any]:
        grace = float(self.config["grace_seconds"])
        count = max(1, round(rate * seconds))
        n = len(self.lanes)
        reopened = await self.reconnect()
        dup0, ooo0, closed0 = self.duplicated, self.out_of_order, self.closed_sockets
        disorders0 = len(self.disorders)
        pid = int(self.config["pid"])
        watched = self.watched()
        waits = (AGENT_SERVER,) if AGENT_SERVER in watched else ()
        others0 = others_offered = Others.now(watched, waits) if watched else None
        cpu0, own0 = server_cpu(pid), time.process_time()
        offered = Usage.now(pid)
        begin = time.perf_counter() + LEAD_SECONDS
        phase: dict[str, Sent] = {}
        tasks: list[asyncio.Task[None]] = []
        for i in range(count):
            scheduled = begin + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i == 0:  # while the load is offered, apart from the drain after it
                offered = Usage.now(pid)
                if watched:
                    others_offered = Others.now(watched, waits)
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
        sending = Usage.now(pid).since(offered)
        if others_offered is not None:
            sending |= Others.now(watched, waits).since(others_offered, "_sending_pct")
        deadline = max(sending_ended, begin + seconds) + grace
        _, late = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
        never_sent = sum(pool.drop_queued() for pool in self.pools())
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
        cpu1, own = server_cpu(pid), time.process_time() - own0
        others = {} if others0 is None else Others.now(watched, waits).since(others0, "_pct")
        for body in phase:
            del self.inflight[body]

        sent_all = list(phase.values())
        ok = [s for s in sent_all if not s.failed]
        arrived = [s for s in ok if s.arrived is not None]
        latencies = [s.latency() for s in arrived]
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
            "to_agent": summarize([s.latency() for s in arrived if s.to_agent]),
            "to_customer": summarize([s.latency() for s in arrived if not s.to_agent]),
            "post": summarize([s.answered - s.started for s in ok if s.answered]),
            "send_lag_p99_ms": summarize([s.started - s.scheduled for s in sent_all])["p99_ms"],
            "server_cpu_pct": round(100 * (cpu1 - cpu0) / wall, 1) if wall > 0 else None,
            "generator_cpu_pct": round(100 * own / wall, 1) if wall > 0 else None,
            **others,
            # While sending only (a failed step's drain would water these down), and
            # how long each waited for a core then: other work on the machine.
            **sending,
            "cdf": cdf_points(latencies),
        }
        if self.first_close and (result["sockets_closed"] or reopened):
            result["first_close"] = self.first_close
        if len(self.disorders) > disorders0:  # which sockets, and the first few
            disorders = self.disorders[disorders0:]
            result["out_of_order_on"] = {
                role: sum(1 for d in disorders if d.startswith(role))
                for role in ("customer", "agent")
            }
            result["first_out_of_order"] = disorders[:5]
        return result


async def generate(config: dict[str, Any]) -> dict[str, Any]:
    relay = config["target"] == "relay"
    limits = httpx.Limits(
        max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS
    )
    timeout = httpx.Timeout(60.0, pool=None)
    agent_url = config.get("agent_url") or config["url"]
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=config["url"], limits=limits, timeout=timeout)
        )
        pool = HttpPool(config["url"], POOL_CONNECTIONS)
        await pool.start()
        stack.push_async_callback(pool.close)
        agent_client, agent_pool = client, pool
        if agent_url != config["url"]:  # a second server for the agents: its own pool
            agent_client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=agent_url, limits=limits, timeout=timeout)
            )
            agent_pool = HttpPool(agent_url, POOL_CONNECTIONS)
            await agent_pool.start()
            stack.push_async_callback(agent_pool.close)
        database = None
        if config.get("postgresql"):
            database = psycopg.connect(config["postgresql"]["url"], autocommit=True)
            stack.callback(database.close)
        gen = Generator(
            config=config,
            client=client,
            pool=pool,
            relay=relay,
            agent_client=agent_client,
            agent_pool=agent_pool,
            database=database,
        )
        began = time.perf_counter()
        await (setup_relay(gen) if relay else setup_chatcore(gen))
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

        # Up the ladder, then halving the gap between the last held and first failed.
        failed_at = await climb(step, rates, config["ladder"], config["resolution"])
        for task in gen.readers:
            task.cancel()
        await asyncio.gather(*gen.readers, return_exceptions=True)
        await asyncio.gather(*(sock.close() for sock in gen.sockets), return_exceptions=True)
    result = {
        "conversations": len(gen.lanes),
        "agents": config["agents"],
        "sockets": len(gen.sockets),
        "setup_seconds": round(setup_seconds, 2),
        "generator_event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "rates": measured,
        "saturation": saturation(steps, failed_at, config),
    }
    if agent_pool is not pool:
        result["servers"] = {"customers": config["url"], "agents": agent_url}
    return result


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop for the generator where it is installed (chatcore depends on it on Linux).

    The generator's own CPU is what caps how high the relay's ladder can go on two
    cores; uvloop took about a quarter of it off at 3,000-4,000 msg/s on the
    two-core machine these were written on, enough for the ladder to find the
    relay's limit rather than the generator's. Plain asyncio otherwise (None).
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
