"""A keep-alive HTTP/1.1 client pool for load generators: plain asyncio streams, no httpx.

httpx's pool does work quadratic in the requests waiting (httpcore's
``_assign_requests_to_connections`` took 60% of a generator's CPU at 150 posts/s,
and 65% of the escalation race's), so with it the generator, not the server, is
what saturates. Every measurement that fires many requests at once uses this.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NamedTuple
from urllib.parse import urlsplit


class Answer(NamedTuple):
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class HttpPool:
    """Keep-alive HTTP/1.1 connections taking POSTs from one FIFO queue.

    Plain asyncio streams, not httpx, for the timed posts: httpx's pool does work
    quadratic in the requests waiting (httpcore's ``_assign_requests_to_connections``
    took 60% of the generator's CPU at 150 messages/s in a profile), so with it the
    generator, not the server, was what saturated. Time spent waiting in this queue
    for a free connection counts in the latency, as it should in an open-loop test.
    """

    def __init__(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.connections = connections
        self.queue: asyncio.Queue[tuple[bytes, asyncio.Future[Answer]]] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for _ in range(self.connections):
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.workers.append(asyncio.create_task(self.work(reader, writer)))

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)

    def post(
        self, path: str, payload: dict[str, Any] | None, headers: dict[str, str]
    ) -> asyncio.Future[Answer]:
        """A future of the answer to POST ``path`` with the JSON ``payload`` (or no body)."""
        body = b"" if payload is None else json.dumps(payload).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{head}\r\n"
        ).encode() + body
        done: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((request, done))
        return done

    def drop_queued(self) -> int:
        """Fail every request still waiting for a connection; how many there were."""
        dropped = 0
        while not self.queue.empty():
            _, done = self.queue.get_nowait()
            if not done.done():
                done.set_exception(ConnectionAbortedError("not sent before the deadline"))
            dropped += 1
        return dropped

    async def work(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request, done = await self.queue.get()
                try:
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head.split(b" ", 2)[1])
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    body = await reader.readexactly(length)
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    if not done.done():
                        done.set_exception(error)
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    continue
                if not done.done():
                    done.set_result(Answer(status, body))
        finally:
            writer.close()
