"""Use cases block (SQLite, bcrypt): every adapter calls them through here, off the loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Writes take turns on one connection anyway; the threads are for reads, and for
# bcrypt, which lets go of the GIL while it hashes. Threads start as work comes.
WORKERS = 32
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="chatcore-worker")


async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a blocking use case in a worker thread: SQLite and bcrypt never block the loop.

    The loop's own executor, not anyio's ``to_thread``: measured under uvloop, a hop
    costs a third of the CPU when a hundred requests wait at once (no capacity
    limiter, no cancel scope), and every request makes one or two.
    """
    call = functools.partial(fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool, call)
