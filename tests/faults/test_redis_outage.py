"""Fault: Redis stopped and started again while two instances carry a conversation.

Two ``chatcore serve`` processes, A and B, share a PostgreSQL scratch database
and a redis-server of this test's own (OwnRedis, so stopping it disturbs no other
test). Two chats: each customer posts and listens on A, the agent posts and
listens on B, so every message crosses Redis to reach the other side. Traffic
never stops. Mid-flow Redis is stopped, and started again a few seconds later;
then, once more, stopped and at once restarted (a blip).

What must hold:

- every POST keeps succeeding during the outage: the message is stored, and the
  publisher drops its event (counted and logged, see adapters/redis_bus/bus.py);
- ``/readyz`` tells the truth: 503 on both instances while Redis is down (from
  when the listeners notice the loss), 200 on both once they are back;
- when Redis is back every socket is closed with 1013; each client reconnects
  with ``after_seq`` set to the last seq it holds, and the snapshot fills the gap
  (a client reconnects as often as it is told to: a second 1013 comes when a
  publisher still dropped events after the first, see adapters/redis_bus/bus.py);
- on every connection live messages come in seq order, once, none at or below
  the snapshot's; and within seconds of the traffic's end each side holds every
  stored message of its chat, once by seq, as a client following
  docs/realtime.md does (a snapshot after a gap may send again what came live
  after the gap: the client lets those go by seq). The history holds every
  acknowledged message once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from adapters.redis_bus import RedisEventBus
from support.contracts.bus import message, new_id
from support.faults import HeldChat, Ledger, check_history, history, setup_chats, speakers_of, talk
from support.redis_server import OwnRedis, RedisDriver, payload_of, wait_until
from support.serve_process import Instance, two_instances, wait_ready
from support.ws import WsClient, agent_url, connect, customer_url, run

CHATS = 2
BEFORE, DURING, AFTER = 20, 30, 20  # acknowledged messages in each phase, at least
OUTAGE_SECONDS = 3.0  # at least, so that traffic really happens while Redis is down
# The clients' reconnecting tasks: a failure there (a close code other than 1013) is
# raised by the next wait rather than left to a timeout.
_KEEPERS: list[asyncio.Task[None]] = []


def test_redis_restart_loses_nothing_and_every_socket_resyncs() -> None:
    own = OwnRedis()
    own.start()
    try:
        with two_instances(own.url) as (a, b):
            wait_ready(a.url, 200)
            wait_ready(b.url, 200)
            _, chats = setup_chats(a.url, CHATS)
            try:
                report = run(_outage(a, b, own, chats), within=150)
            except AssertionError as failed:
                raise AssertionError(f"{failed}\nA: {_log(a)}\nB: {_log(b)}") from None
            print(f"\nRedis outage: {report}")
    finally:
        own.stop()


def test_events_dropped_after_a_listener_came_back_make_it_resync_again() -> None:
    """The race the test above can hit, made certain: a listener back before a publisher.

    The publisher's pause after a failure is long here (1.5 s), the listener's
    backoff short. Dropped before the listener was back: nothing more to do (its
    sockets resynced when it came back). Dropped after: the publisher announces it
    once Redis takes it, and the listener has every socket resync again, once.
    """
    own = OwnRedis()
    own.start()
    driver = RedisDriver(own.url, max_backoff=0.2, resync_after=0.1)
    bus = RedisEventBus(
        own.url, encode=payload_of, namespace=driver.namespace, pause_after_failure=1.5
    )
    missed: list[float] = []
    try:
        driver.listener.on_missed(lambda: missed.append(time.monotonic()))
        event = message(new_id(), 1)
        own.stop()
        wait_until(lambda: not driver.listener.healthy)
        bus.publish([event])  # fails: dropped, and the pause starts
        own.start()
        wait_until(lambda: driver.listener.healthy)  # back, its sockets resynced
        time.sleep(1.6)  # the pause is over, the first drop announced: nothing to do
        assert missed == [], "a drop from before the listener came back made it resync"
        assert bus.dropped == 1

        own.stop()
        wait_until(lambda: not driver.listener.healthy)
        bus.publish([event])  # fails again
        own.start()
        wait_until(lambda: driver.listener.healthy)
        back = time.monotonic()
        bus.publish([event])  # still in the pause: dropped after the listener came back
        bus.publish([event])
        wait_until(lambda: bool(missed), timeout=5)
        assert missed[0] - back >= 1.0, "resynced before the publisher's notice could come"
        time.sleep(0.5)
        assert len(missed) == 1, missed
        assert bus.dropped == 4
    finally:
        bus.close()
        driver.close()
        own.stop()


class Watcher:
    """One side of one chat over a socket: every connection it made, in order."""

    def __init__(self, name: str, chat: HeldChat, url: Callable[[int], str]) -> None:
        self.name = name
        self.chat = chat
        self.url = url  # after_seq -> the socket's URL
        self.connections: list[WsClient] = []
        self.opened_at: list[float] = []
        self.resyncs: list[str] = []  # each reconnection: "after_seq=N: snapshot of M"

    @property
    def current(self) -> WsClient:
        return self.connections[-1]

    async def open(self, stack: AsyncExitStack) -> WsClient:
        after = self.last_held()
        client = await stack.enter_async_context(connect(self.url(after), name=self.name))
        self.opened_at.append(time.monotonic())
        snapshot = await client.next_frame("system.subscribed", conversation_id=self.chat.id)
        assert not snapshot["data"]["has_more"], "more than 500 missed: not in this test"
        self.connections.append(client)
        return client

    async def keep(self, stack: AsyncExitStack, stop: asyncio.Event) -> None:
        """As a client does: closed with 1013, reconnect at once with ``after_seq``."""
        while not stop.is_set():
            client = self.current
            if client.closed:
                assert client.close_code == 1013, (self.name, client.close_code)
                after = self.last_held()
                fresh = await self.open(stack)
                snapshot = fresh.of_type("system.subscribed")[0]["data"]["messages"]
                assert not snapshot or snapshot[0]["seq"] == after + 1, (after, snapshot[0])
                self.resyncs.append(f"after_seq={after}: snapshot of {len(snapshot)}")
            await asyncio.sleep(0.01)

    def held(self) -> tuple[dict[int, str], int]:
        """What a client following docs/realtime.md holds: each seq once (its message's
        id), and how many messages came again (in a snapshot after a gap) and were let go.

        Checks the server's promises on the way: on each connection, live messages come
        in seq order, each once, none at or below the snapshot's last.
        """
        held: dict[int, str] = {}
        again = 0
        for client in self.connections:
            newest = 0
            for frame in list(client.frames):
                if frame.get("conversation_id") != self.chat.id:
                    continue
                if frame["type"] == "system.subscribed":
                    messages = frame["data"]["messages"]
                elif frame["type"] == "message.created":
                    messages = [frame["data"]]
                    assert messages[0]["seq"] > newest, (self.name, newest, messages[0])
                else:
                    continue
                for item in messages:
                    newest = max(newest, item["seq"])
                    if item["seq"] in held:
                        assert held[item["seq"]] == item["id"], (self.name, item)
                        again += 1
                    else:
                        held[item["seq"]] = item["id"]
        return held, again

    def last_held(self) -> int:
        """The highest seq up to which every message is held: ``after_seq`` to send."""
        held = self.held()[0]
        last = 0
        while last + 1 in held:
            last += 1
        return last


@dataclass
class Scene:
    a: Instance
    b: Instance
    own: OwnRedis
    chats: list[HeldChat]
    watchers: list[Watcher]
    ledger: Ledger
    stop_traffic: asyncio.Event
    report: dict[str, Any]


async def _outage(a: Instance, b: Instance, own: OwnRedis, chats: list[HeldChat]) -> dict[str, Any]:
    watchers = [
        w
        for chat in chats
        for w in (
            Watcher(f"customer@A/{chat.id[:6]}", chat, _customer_at(a, chat)),
            Watcher(f"agent@B/{chat.id[:6]}", chat, _agent_at(b, chat)),
        )
    ]
    scene = Scene(a, b, own, chats, watchers, Ledger(), asyncio.Event(), {})
    async with (
        AsyncExitStack() as sockets,
        httpx.AsyncClient(base_url=a.url, timeout=30) as http_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as http_b,
    ):
        for watcher in watchers:
            await watcher.open(sockets)
        done_watching = asyncio.Event()
        _KEEPERS[:] = [asyncio.create_task(w.keep(sockets, done_watching)) for w in watchers]
        traffic = [
            asyncio.create_task(
                talk(
                    http_a if s.role == "customer" else http_b,
                    s,
                    scene.ledger,
                    stop=scene.stop_traffic,
                    pause=0.05,
                    give_up_on_failure=False,
                )
            )
            for s in speakers_of(chats)
        ]
        try:
            restarted = await _two_outages(scene)
        finally:
            scene.stop_traffic.set()
            await asyncio.gather(*traffic)
        try:
            await _everything_held(scene, http_a, since=restarted)
        finally:
            done_watching.set()
            keepers = list(_KEEPERS)
            _KEEPERS.clear()
            for failed in await asyncio.gather(*keepers, return_exceptions=True):
                if failed is not None:
                    raise failed
    return scene.report


async def _two_outages(scene: Scene) -> float:
    """Traffic, an outage, traffic, a blip, traffic; when Redis came back the first time."""
    a, b, own, ledger, watchers, report = (
        scene.a,
        scene.b,
        scene.own,
        scene.ledger,
        scene.watchers,
        scene.report,
    )
    await _until(lambda: len(ledger.acked) >= BEFORE, "traffic before the outage")

    # Redis goes away: both instances unready, POSTs still stored.
    acked_before = len(ledger.acked)
    stopped = time.monotonic()
    await asyncio.to_thread(own.stop)
    noticed = await asyncio.gather(_readyz_becomes(a, 503), _readyz_becomes(b, 503))
    report["503 after (s)"] = [round(t - stopped, 2) for t in noticed]
    readyz_during: list[int] = []
    while len(ledger.acked) < acked_before + DURING or (
        time.monotonic() - stopped < OUTAGE_SECONDS
    ):
        readyz_during += await asyncio.gather(_readyz(a), _readyz(b))
        await asyncio.sleep(0.2)
    assert set(readyz_during) == {503}, readyz_during
    report["readyz during"] = f"{len(readyz_during)} x 503"
    report["acked during outage"] = len(ledger.acked) - acked_before
    assert not ledger.unknown, f"POSTs failed while Redis was down: {ledger.unknown}"
    assert all(len(w.connections) == 1 for w in watchers), "closed during the outage"

    # Redis is back: every socket is told to resync, both instances ready again.
    restarted = time.monotonic()
    await asyncio.to_thread(own.start)
    report["outage (s)"] = round(restarted - stopped, 2)
    await _until(lambda: all(w.resyncs for w in watchers), "every socket to resync")
    report["every socket resynced after (s)"] = round(time.monotonic() - restarted, 2)
    await asyncio.gather(_readyz_becomes(a, 200), _readyz_becomes(b, 200))
    report["ready again after (s)"] = round(time.monotonic() - restarted, 2)
    acked_after_outage = len(ledger.acked)
    await _until(lambda: len(ledger.acked) >= acked_after_outage + AFTER, "traffic after")

    # A blip: Redis stopped and at once started again. The listeners come back within
    # a second, and publishers still in their pause after a failure go on dropping
    # events meanwhile: the sockets that had already resynced must be told to resync
    # again, or they miss those for good.
    resynced = {w.name: len(w.resyncs) for w in watchers}
    blipped = time.monotonic()
    await asyncio.to_thread(own.stop)
    await asyncio.gather(_readyz_becomes(a, 503), _readyz_becomes(b, 503))
    await asyncio.to_thread(own.start)
    report["blip (s)"] = round(time.monotonic() - blipped, 2)
    await _until(
        lambda: all(len(w.resyncs) > resynced[w.name] for w in watchers),
        "every socket to resync after the blip",
    )
    await asyncio.gather(_readyz_becomes(a, 200), _readyz_becomes(b, 200))
    acked_after_blip = len(ledger.acked)
    await _until(lambda: len(ledger.acked) >= acked_after_blip + AFTER, "traffic after")
    return restarted


async def _everything_held(scene: Scene, http: httpx.AsyncClient, *, since: float) -> None:
    """Everything stored once, and every side holds all of it, once by seq."""
    ledger, report = scene.ledger, scene.report
    assert not ledger.unknown, f"POSTs failed: {ledger.unknown}"
    for chat in scene.chats:
        items = await history(http, chat)
        check_history(chat, items, ledger)
        stored = {m["seq"]: m["id"] for m in items}
        sides = [w for w in scene.watchers if w.chat == chat]

        def explain(items: list[dict[str, Any]] = items, sides: list[Watcher] = sides) -> str:
            # Times are from Redis's first restart.
            return "\n".join(_difference(w, items, ledger, since=since) for w in sides)

        for watcher in sides:
            # Dropped events are announced within about a second, then resynced: a side
            # may hold a gap that long after the traffic stopped, not longer.
            count = len(stored)
            await _until(
                partial(_holds, watcher, count),
                f"{watcher.name} to hold all {count} messages",
                within=10,
                on_timeout=explain,
            )
            assert watcher.held()[0] == stored, explain()
    report["resyncs"] = {w.name: w.resyncs for w in scene.watchers}
    report["sent again in a snapshot, let go by seq"] = {
        w.name: w.held()[1] for w in scene.watchers
    }
    report["acked"] = len(ledger.acked)
    report["statuses"] = dict(ledger.statuses)


def _log(instance: Instance) -> str:
    """The instance's log without the access lines: what its bus and listener said."""
    lines = instance.log.read_text(errors="replace").splitlines()
    return "\n".join(line for line in lines if " HTTP/1.1" not in line)[-8000:]


def _customer_at(instance: Instance, chat: HeldChat) -> Callable[[int], str]:
    return lambda after: customer_url(instance.url, chat.id, chat.session, after_seq=after)


def _agent_at(instance: Instance, chat: HeldChat) -> Callable[[int], str]:
    return lambda after: agent_url(
        instance.url, chat.token, conversation_id=chat.id, after_seq=after
    )


async def _until(
    condition: Callable[[], bool],
    what: str,
    within: float = 30,
    on_timeout: Callable[[], str] = str,
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        for keeper in _KEEPERS:
            if keeper.done() and not keeper.cancelled() and keeper.exception():
                await keeper  # raises it
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {on_timeout()}"
        await asyncio.sleep(0.05)


def _difference(
    watcher: Watcher, items: list[dict[str, Any]], ledger: Ledger, *, since: float
) -> str:
    """What a side is missing: each seq, who posted it, and when."""
    held = watcher.held()[0]
    keys = {m["seq"]: m["client_message_id"] for m in items}
    wrong = [seq for seq in keys if seq not in held]
    shown = [
        f"seq {s} ({keys[s]}, answered at"
        f" {ledger.answered_at.get(keys[s] or '', since) - since:+.2f} s)"
        for s in wrong
    ]
    opened = [f"{t - since:+.2f} s" for t in watcher.opened_at]
    return f"{watcher.name}: {shown or 'nothing wrong'}; connected at {opened}"


async def _readyz(instance: Instance) -> int:
    async with httpx.AsyncClient(timeout=5) as http:
        return (await http.get(instance.url + "/readyz")).status_code


async def _readyz_becomes(instance: Instance, status: int, within: float = 20) -> float:
    deadline = time.monotonic() + within
    while (got := await _readyz(instance)) != status:
        assert time.monotonic() < deadline, f"/readyz stayed {got}, not {status}"
        await asyncio.sleep(0.05)
    return time.monotonic()


def _holds(watcher: Watcher, count: int) -> bool:
    return watcher.last_held() >= count
