"""Use cases block (SQLite, bcrypt): every adapter calls them through here, off the loop."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a blocking use case in a worker thread: SQLite and bcrypt never block the loop."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
