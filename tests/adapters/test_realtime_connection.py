"""One connection's sending side, against a fake ASGI send that pauses like uvicorn's.

uvicorn's send finishes at once unless the transport is over its high-water
mark, and then waits until it drains. Connection writes on the spot and only
queues behind a send that waits: these tests pin that down without a network,
including the rules the end-to-end tests reach only slowly (1013, a peer that
never reads again, a peer that is gone).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from adapters.realtime import eager
from adapters.realtime.connection import Connection, Subscription

LIMIT = 3
CLOSE_TIMEOUT = 0.2


class FakeSocket:
    """An ASGI send: waits while paused, raises once the peer is gone, records what went."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send(self, message: Any) -> None:
        await self.writable.wait()
        if self.gone:
            raise OSError("the peer went away")
        self.sent.append(dict(message))

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.sent if m["type"] == "websocket.send"]

    @property
    def close_codes(self) -> list[int]:
        return [m["code"] for m in self.sent if m["type"] == "websocket.close"]


def _open(socket: FakeSocket) -> Connection:
    connection = Connection(socket.send, queue_frames=LIMIT, close_timeout=CLOSE_TIMEOUT)
    connection.open()
    return connection


def _run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(scenario, 10))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_frames_go_out_at_once_in_order_without_a_task() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        tasks_before = len(asyncio.all_tasks())
        for n in range(10):  # more than the limit: nothing waits, so nothing is cut off
            connection.send(f"f{n}")
        assert socket.texts == [f"f{n}" for n in range(10)]  # written before any await
        assert len(asyncio.all_tasks()) == tasks_before
        assert not connection.closing

    _run(scenario())


def test_nothing_goes_out_before_open_and_a_refused_handshake_sends_none_of_it() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = Connection(socket.send, queue_frames=LIMIT, close_timeout=CLOSE_TIMEOUT)
        connection.send("system.connected")
        connection.send("system.subscribed")
        assert socket.sent == []
        connection.open()
        assert socket.texts == ["system.connected", "system.subscribed"]

        refused = FakeSocket()
        connection = Connection(refused.send, queue_frames=LIMIT, close_timeout=CLOSE_TIMEOUT)
        connection.send("system.connected")
        connection.finish()
        connection.open()
        await _settle()
        assert refused.sent == []

    _run(scenario())


def test_behind_a_paused_socket_frames_wait_then_go_in_order() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        socket.writable.clear()
        connection.send("a")  # suspends: a drain takes over
        connection.send("b")
        connection.send("c")
        await _settle()
        assert socket.texts == []
        socket.writable.set()
        await _settle()
        assert socket.texts == ["a", "b", "c"]
        connection.send("d")  # caught up: at once again
        assert socket.texts == ["a", "b", "c", "d"]
        assert not connection.closing

    _run(scenario())


def test_more_than_the_limit_waiting_is_closed_with_1013_after_the_frame_in_flight() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        socket.writable.clear()
        connection.send("in flight")
        for n in range(LIMIT):
            connection.send(f"queued {n}")
        connection.send("one too many")
        assert connection.close_code == 1013
        connection.send("after the close")
        socket.writable.set()
        await _settle()
        assert socket.texts == ["in flight"]
        assert socket.close_codes == [1013]

    _run(scenario())


def test_close_says_its_last_words_then_closes() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        connection.close(4401, last_words="unauthorized")
        connection.send("too late")
        assert socket.texts == ["unauthorized"]
        assert socket.close_codes == [4401]
        connection.finish()

    _run(scenario())


async def _reading(connection: Connection) -> asyncio.Task[str]:
    """A stand-in for the session's read loop: waits as it does, says how it stopped."""

    async def read() -> str:
        task = asyncio.current_task()
        assert task is not None
        connection.reader = task
        try:
            await asyncio.Event().wait()  # a peer that never sends
        except asyncio.CancelledError:
            if not connection.cancelled_by_end(task):
                raise
            return "ended"
        finally:
            connection.reader = None
        return "read"

    task = asyncio.create_task(read())
    await _settle()
    return task


def test_a_peer_that_never_takes_the_close_is_let_go_after_the_close_timeout() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        reader = await _reading(connection)
        socket.writable.clear()
        connection.send("stuck")
        connection.close(4401, last_words="unauthorized")
        await asyncio.sleep(CLOSE_TIMEOUT / 2)
        assert not connection.ended
        assert await reader == "ended"
        assert connection.ended
        assert socket.sent == []
        connection.finish()  # what the session does as it leaves: the drain is cancelled
        await _settle()

    _run(scenario())


def test_a_frame_not_taken_within_the_close_timeout_drops_the_connection_with_1013() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        reader = await _reading(connection)
        socket.writable.clear()
        connection.send("never read")
        assert await reader == "ended"
        assert connection.close_code == 1013
        connection.finish()
        await _settle()

    _run(scenario())


def test_a_peer_gone_under_a_write_ends_the_connection() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        reader = await _reading(connection)
        socket.gone = True
        connection.send("into the void")
        assert await reader == "ended"
        assert connection.closing
        socket.gone = False
        connection.send("nothing more")
        assert socket.sent == []

    _run(scenario())


def test_someone_elses_cancel_of_the_reader_is_not_swallowed() -> None:
    async def scenario() -> None:
        connection = _open(FakeSocket())
        reader = await _reading(connection)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader

    _run(scenario())


def test_events_wait_for_the_snapshot_and_what_it_held_is_not_sent_twice() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        connection = _open(socket)
        connection.subscriptions["x"] = Subscription()
        connection.send_about("x", "seq 5", seq=5)
        connection.send_about("x", "seq 6", seq=6)
        connection.send_about("x", "no seq")
        assert socket.texts == []
        connection.send("snapshot up to 5")
        connection.release("x", snapshot_last_seq=5)
        connection.send_about("x", "seq 5 again", seq=5)
        connection.send_about("x", "seq 7", seq=7)
        assert socket.texts == ["snapshot up to 5", "seq 6", "no seq", "seq 7"]

    _run(scenario())


def test_eager_start_finishes_at_once_or_leaves_a_rest_that_a_task_finishes() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        assert eager.start(socket.send({"type": "websocket.send", "text": "now"})) is None
        assert socket.texts == ["now"]

        socket.writable.clear()
        rest = eager.start(socket.send({"type": "websocket.send", "text": "later"}))
        assert rest is not None
        finishing = asyncio.ensure_future(rest)
        await _settle()
        assert socket.texts == ["now"]
        socket.writable.set()
        await finishing
        assert socket.texts == ["now", "later"]

        socket.gone = True
        with pytest.raises(OSError, match="went away"):
            eager.start(socket.send({"type": "websocket.send", "text": "lost"}))

    _run(scenario())


def test_a_cancel_of_the_task_finishing_the_rest_reaches_the_awaitable() -> None:
    async def scenario() -> None:
        socket = FakeSocket()
        socket.writable.clear()
        rest = eager.start(socket.send({"type": "websocket.send", "text": "stuck"}))
        assert rest is not None
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await rest
        socket.writable.set()
        await _settle()
        assert socket.sent == []  # the send was cancelled, not left to finish later

    _run(scenario())
