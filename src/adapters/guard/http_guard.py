"""uvicorn's httptools protocol with per-connection bounds and a header timeout.

uvicorn queues pipelined requests without limit (reading resumes while answers are
still waiting to be read), keeps a header that never ends in memory, and waits
forever for headers that never finish. Here a connection is cut when it queues
more than MAX_QUEUED_REQUESTS requests, sends more than MAX_HEADER_BYTES of
unfinished headers, leaves MAX_UNREAD_BYTES of answers unread, or has not
finished its request headers ``header_timeout`` seconds after it began them (or
after it connected).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from adapters.guard.limits import cut, holding_too_much

# Browsers do not pipeline; a client that has this many requests waiting behind
# the one being answered is not reading its answers.
MAX_QUEUED_REQUESTS = 32
# Request line and headers of one request. Reads are counted whole (uvicorn's
# parser says nothing of where in a read the headers began), so this stays well
# above a read's 256 KiB: an honest request never comes near it.
MAX_HEADER_BYTES = 1024 * 1024


class _Refused(Exception):
    """Raised inside a parser callback: it stops the parse of the rest of the read."""


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._refusal: str | None = None
        self._header_bytes = 0
        self._in_headers = True
        self._header_timer: asyncio.TimerHandle | None = None
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self.cycle is None or self.cycle.response_complete:
            # A byte after an idle spell starts the clock, even one the parser skips
            # (bare line ends), which would otherwise keep a connection forever.
            self._start_header_timer()
        super().data_received(data)
        if self._in_headers:
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse("its request headers are too large")
        if holding_too_much(self.transport):
            self._refuse("it does not read its answers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._start_header_timer()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._stop_header_timer()
        super().on_headers_complete()
        if len(self.pipeline) > MAX_QUEUED_REQUESTS:
            self._refuse("it pipelines requests without reading the answers")
            raise _Refused()

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:  # a malformed request, not one of ours
            super().send_400_response(msg)

    def _refuse(self, reason: str) -> None:
        if self._refusal is None:
            self._refusal = reason
            self._stop_header_timer()
            cut(self.transport, reason)

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        self._refuse(f"no complete request headers within {self.header_timeout:g} s")


def http_protocol(*, header_timeout_seconds: float) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's ``http=``, with this header timeout."""
    return type(
        "ChatcoreHttpProtocol", (GuardedHttpProtocol,), {"header_timeout": header_timeout_seconds}
    )
