"""One connection must not make the server hold unbounded memory, nor stay forever.

Against a real ``chatcore serve`` process, its memory read from /proc (VmRSS):

- WebSocket pings whose pongs are never read (before the fix: +1.2 GiB in 40 s);
- HTTP requests pipelined without reading the answers (before: +2.5 GiB in 15 s);
- one request header that never ends;
- slowloris: half-sent headers, which must be cut after the header timeout while
  ordinary requests are still answered.

Each attack runs for a bounded time and stops as soon as the server hangs up.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from support.rest import start_chat
from support.serve_process import Instance, chatcore_serve
from support.ws import customer_url
from support.ws_raw import raw_handshake

MIB = 1024 * 1024
# What one attacking connection may add to the server's resident memory. Today's
# main grows by gigabytes; the guard holds a connection to well under 1 MiB.
RSS_GROWTH_BOUND = 48 * MIB
ATTACK_SECONDS = 15
HEADER_TIMEOUT = 2  # the test's CHATCORE_HEADER_TIMEOUT_SECONDS (default 10)


def _serving(tmp_path: Path, **env_extra: str) -> AbstractContextManager[Instance]:
    env = {
        "CHATCORE_DATABASE": str(tmp_path / "served.db"),
        "CHATCORE_BCRYPT_ROUNDS": "4",
        "CHATCORE_RATE_LIMITS": "off",
        **env_extra,
    }
    return chatcore_serve(env, log=tmp_path / "serve.log")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Instance]:
    with _serving(tmp_path, CHATCORE_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT)) as instance:
        yield instance


def _rss(instance: Instance) -> int:
    for line in Path(f"/proc/{instance.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _address(instance: Instance) -> tuple[str, int]:
    port = int(instance.url.rsplit(":", 1)[1])
    return ("127.0.0.1", port)


def _attack(instance: Instance, sock: socket.socket, chunk: bytes) -> tuple[bool, int]:
    """Send ``chunk`` over and over, reading nothing, for at most ATTACK_SECONDS.

    Answers (the server hung up, the largest RSS growth seen).
    """
    baseline = _rss(instance)
    peak = baseline
    sock.settimeout(0.2)
    deadline = time.monotonic() + ATTACK_SECONDS
    closed = False
    while time.monotonic() < deadline:
        try:
            sock.send(chunk)
        except TimeoutError:
            pass  # the server stopped reading: still open unless it hangs up
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        peak = max(peak, _rss(instance))
        if closed:
            break
    sock.close()
    return closed, peak - baseline


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask; a zero mask keeps the payload as is)."""
    assert len(payload) <= 125
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + b"\0\0\0\0" + payload


def test_pings_whose_pongs_are_never_read_get_the_socket_closed(served: Instance) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        chat = start_chat(client)
    url = customer_url(served.url, chat.conversation_id, chat.session_id)
    sock = raw_handshake(url, rcvbuf=4096)
    pings = _masked(0x9, b"p" * 125) * 512  # 67 KiB of pings, 64 KiB of pongs to hold

    closed, growth = _attack(served, sock, pings)

    assert closed, f"the socket stayed open; the server grew {growth // MIB} MiB"
    assert growth < RSS_GROWTH_BOUND, f"the server grew {growth // MIB} MiB"


def test_requests_pipelined_without_reading_the_answers_get_the_socket_closed(
    served: Instance,
) -> None:
    sock = socket.create_connection(_address(served))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    requests = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 1500

    closed, growth = _attack(served, sock, requests)

    assert closed, f"the socket stayed open; the server grew {growth // MIB} MiB"
    assert growth < RSS_GROWTH_BOUND, f"the server grew {growth // MIB} MiB"


def test_a_client_that_pipelines_a_few_requests_and_reads_gets_every_answer(
    served: Instance,
) -> None:
    with socket.create_connection(_address(served)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 10)
        sock.settimeout(10)
        answers = b""
        while answers.count(b"HTTP/1.1 200 OK") < 10:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {answers.count(b'HTTP/1.1 200 OK')} answers"
            answers += chunk


def test_a_header_that_never_ends_gets_the_socket_closed(served: Instance) -> None:
    sock = socket.create_connection(_address(served))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Endless: ")

    closed, growth = _attack(served, sock, b"a" * 65536)

    assert closed, f"the socket stayed open; the server grew {growth // MIB} MiB"
    assert growth < RSS_GROWTH_BOUND, f"the server grew {growth // MIB} MiB"


# -- slowloris --------------------------------------------------------------------------


def _hung_up(sock: socket.socket) -> bool:
    """Whether the server closed this socket (it answers nothing to half a request)."""
    sock.settimeout(0)
    try:
        return sock.recv(4096) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def _half_request(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def _trickle(sockets: list[socket.socket]) -> None:
    """One more header byte on each: a slowloris keeps every socket just alive."""
    for sock in sockets:
        with contextlib.suppress(OSError):  # already closed by the server
            sock.send(b"X")


def _until(condition: Callable[[], bool], *, within: float, trickle: list[socket.socket]) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        _trickle(trickle)
        time.sleep(0.25)
    return condition()


def test_fifty_slowloris_sockets_are_closed_and_do_not_keep_others_out(
    served: Instance,
) -> None:
    slow = [_half_request(_address(served)) for _ in range(50)]
    _trickle(slow)
    try:
        # While they hold their sockets, ordinary requests are answered.
        with httpx.Client(base_url=served.url, timeout=10) as client:
            for _ in range(20):
                assert client.get("/healthz").status_code == 200
                _trickle(slow)
        # Trickling does not buy time: the timer runs from the start of the request.
        assert _until(
            lambda: all(_hung_up(s) for s in slow), within=HEADER_TIMEOUT + 8, trickle=slow
        ), f"{sum(not _hung_up(s) for s in slow)} of 50 slow sockets are still open"
        with httpx.Client(base_url=served.url, timeout=10) as client:
            assert client.get("/healthz").status_code == 200
    finally:
        for sock in slow:
            sock.close()


def test_a_connection_that_sends_nothing_is_closed_too(served: Instance) -> None:
    sock = socket.create_connection(_address(served))
    try:
        assert _until(lambda: _hung_up(sock), within=HEADER_TIMEOUT + 8, trickle=[])
    finally:
        sock.close()


def test_the_default_header_timeout_is_ten_seconds(tmp_path: Path) -> None:
    with _serving(tmp_path, CHATCORE_HEADER_TIMEOUT_SECONDS="") as instance:  # empty: unset
        sock = _half_request(_address(instance))
        try:
            time.sleep(7)  # well inside ten seconds, whatever the machine's load
            assert not _hung_up(sock), "closed before its ten seconds"
            assert _until(lambda: _hung_up(sock), within=8, trickle=[sock])
        finally:
            sock.close()
