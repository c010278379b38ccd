"""Use cases block (SQLite, bcrypt): every adapter calls them through here, off the loop."""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Few threads: writes take turns on one connection anyway, and Python runs one
# thread at a time, so more threads only queue for the GIL, the event loop among
# them. Measured at 500 msg/s: with 32 workers the loop waited its turn behind
# them and p99 delivery swung between 11 and 60 ms (max 130); with 6, 7–15 (max 35).
WORKERS = 8
# bcrypt gets threads of its own: it lets go of the GIL while it hashes, but each
# hash holds its thread for a quarter of a second, and a burst of logins must not
# take every worker from the chats.
HASHING_WORKERS = min(4, max(2, os.cpu_count() or 2))
# Hashing calls waiting for a thread, beyond those running. A burst past this is
# refused at once (503, retry shortly) rather than queued without end: the wait of a
# real agent's login stays bounded by this line, not by the size of the burst.
HASHING_WAITING = 32

_workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="chatcore-worker")
_hashing = ThreadPoolExecutor(max_workers=HASHING_WORKERS, thread_name_prefix="chatcore-hash")
# Shared by every event loop of the process (tests run several), hence a thread lock.
_hashing_places = threading.BoundedSemaphore(HASHING_WORKERS + HASHING_WAITING)


class HashingBusy(Exception):
    """Every password-hashing thread is busy and its waiting line is full."""


async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a blocking use case in a worker thread: SQLite never blocks the loop.

    The loop's own executor, not anyio's ``to_thread``: measured under uvloop, a hop
    costs a third of the CPU when a hundred requests wait at once (no capacity
    limiter, no cancel scope), and every request makes one or two.
    """
    call = functools.partial(fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_workers, call)


async def run_hashing(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Like run, for the use cases that hash or check a password (bcrypt); raises
    HashingBusy when the line for those threads is full."""
    if not _hashing_places.acquire(blocking=False):
        raise HashingBusy()
    # The place is freed when the hash is done (or never started), not when the
    # caller stops waiting: a client that hangs up does not stop the thread.
    job = _hashing.submit(functools.partial(fn, *args, **kwargs))
    job.add_done_callback(lambda _: _hashing_places.release())
    return await asyncio.wrap_future(job)
