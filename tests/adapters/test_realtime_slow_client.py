"""The slow-client rule: a reader that falls behind is cut off, and nobody waits for it.

The slow client is the holder's agent socket, made by hand with a 4 KiB receive
buffer, that stops reading after the handshake. The customer posts large messages
over REST (4000 emoji: ~16 KB a frame, and the holder gets two frames a message);
the slow socket fills the kernel buffers, then uvicorn's write buffer, then its
bounded send queue (ws_queue_frames=8). Meanwhile a normal customer socket and a
normal admin subscriber get every message in order.

- Once the slow client reads again it finds a dense prefix of the messages, then a
  close frame with 1013 (the heartbeat is long here, so only the queue can end it).
- It must also be let go while it is *not* reading: a stalled peer answers no ping,
  so with a short heartbeat its connection is dropped and, past the grace, the
  agent shows offline — without the client ever reading again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from support.rest import Chat, Staff, first_admin, go_online, hire, start_conversation
from support.rest_async import rest, say
from support.servers import LiveServer
from support.ws import FAST, WsClient, agent_url, connect, customer_url, run
from support.ws_raw import raw_handshake, read_raw_frames

BIG = "\N{GRINNING FACE}" * 3990  # 3990 characters, ~16 KB of UTF-8
MAX_POSTS = 200  # ~6 MB to the slow socket: more than the buffers on the way hold (~3 MB)
SENDERS = 4  # posts in flight at once; bursts stay under a healthy reader's queue


@dataclass
class Scene:
    server: LiveServer
    admin: Staff
    alice: Staff  # holds the conversation: her (slow) socket gets every message
    session: str
    conversation_id: str


def _scene(make_server: Callable[..., LiveServer], heartbeat: int) -> Scene:
    server = make_server(**{**FAST, "ws_queue_frames": 8, "heartbeat_seconds": heartbeat})
    with httpx.Client(base_url=server.url, timeout=30) as client:
        admin = first_admin(client)
        alice = hire(client, admin, display_name="Alice")
        go_online(client, alice)
        session, conversation = start_conversation(client)
        escalate_path = f"/api/v1/customer/conversations/{conversation['id']}/escalate"
        assert client.post(escalate_path, headers={"X-Customer-Session-Id": session}).is_success
    return Scene(server, admin, alice, session, conversation["id"])


@asynccontextmanager
async def _watchers(scene: Scene) -> AsyncIterator[tuple[WsClient, WsClient]]:
    x = scene.conversation_id
    async with (
        connect(customer_url(scene.server.url, x, scene.session), name="customer") as customer,
        connect(
            agent_url(scene.server.url, scene.admin.token, conversation_id=x), name="admin"
        ) as subscriber,
    ):
        await customer.next_frame("system.subscribed")
        await subscriber.next_frame("system.subscribed")
        yield customer, subscriber


@asynccontextmanager
async def _stalled(scene: Scene) -> AsyncIterator[socket.socket]:
    url = agent_url(scene.server.url, scene.alice.token)
    sock = await asyncio.to_thread(raw_handshake, url, rcvbuf=4096)
    try:
        yield sock
    finally:
        with contextlib.suppress(OSError):
            sock.close()


def _lapsed(observer: WsClient, agent_id: str) -> bool:
    return any(
        f["data"]["agent_id"] == agent_id and f["data"]["presence"] == "offline"
        for f in observer.of_type("agent.presence.changed")
    )


async def _post_big(
    http: httpx.AsyncClient, scene: Scene, count: int, stop: Callable[[], bool]
) -> int:
    """Post up to ``count`` big messages, SENDERS at a time; fewer once ``stop()``."""
    posted = 0
    while posted < count and not stop():
        batch = min(SENDERS, count - posted)
        await asyncio.gather(
            *(
                say(http, Chat(scene.session, scene.conversation_id), f"{posted + n} {BIG}")
                for n in range(batch)
            )
        )
        posted += batch
    return posted


async def _everything_arrived(readers: tuple[WsClient, ...], x: str, last: int) -> None:
    """Each normal reader got every message, dense and in order, and is still open."""
    for reader in readers:
        seqs = [
            (await reader.next_frame("message.created", conversation_id=x))["data"]["seq"]
            for _ in range(3, last + 1)
        ]
        assert seqs == list(range(3, last + 1)), reader.name
        await reader.ping()
        assert not reader.closed, reader.name


def test_a_stalled_client_is_cut_off_with_1013_and_slows_nobody(
    make_server: Callable[..., LiveServer],
) -> None:
    # A long heartbeat: the stalled client may only be ended by its queue.
    scene = _scene(make_server, heartbeat=60)
    x = scene.conversation_id

    async def scenario() -> None:
        async with rest(scene.server.url) as http, _watchers(scene) as readers:
            async with _stalled(scene) as slow:
                posted = await _post_big(http, scene, MAX_POSTS, stop=lambda: False)
                last = 2 + posted
                await _everything_arrived(readers, x, last)
                frames, code = await asyncio.to_thread(read_raw_frames, slow, timeout=15)
            assert frames, "the slow client got nothing at all"
            assert frames[0]["type"] == "system.connected", frames[0]
            seqs = [
                f["data"]["seq"]
                for f in frames
                if f["type"] == "message.created" and f["conversation_id"] == x
            ]
            assert seqs == list(range(3, 3 + len(seqs))), "the slow client's prefix has a gap"
            assert len(seqs) < posted, f"the slow client was sent all {posted} messages"
            assert code == 1013, (
                f"after {len(seqs)} of {posted} messages the slow client's stream ended"
                f" with close code {code}, not 1013"
            )

    run(scenario())


def test_a_stalled_client_is_let_go_without_reading_again(
    make_server: Callable[..., LiveServer],
) -> None:
    heartbeat = 3
    scene = _scene(make_server, heartbeat=heartbeat)
    x = scene.conversation_id

    async def scenario() -> None:
        async with (
            rest(scene.server.url) as http,
            _watchers(scene) as (customer, subscriber),
            _stalled(scene),
        ):

            def lapsed() -> bool:
                return _lapsed(subscriber, scene.alice.id)

            posted = await _post_big(http, scene, MAX_POSTS, stop=lapsed)
            # Dropped by the heartbeat (2 x 3 s) or the queue, then the grace (1 s).
            bound = 2 * heartbeat + FAST["presence_grace_seconds"] + 8
            try:
                await subscriber.next_frame(
                    "agent.presence.changed",
                    where=lambda f: f["data"]["agent_id"] == scene.alice.id,
                    within=bound,
                    take=False,
                )
            except AssertionError:
                raise AssertionError(
                    f"{posted} messages of ~16 KB later and {bound} s after, the stalled"
                    " agent socket still counts as connected (presence never lapsed):"
                    " it was neither cut off for its queue nor dropped by the heartbeat"
                ) from None
            assert lapsed()
            await _everything_arrived((customer, subscriber), x, 2 + posted)

    run(scenario())
