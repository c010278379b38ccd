"""Running an awaitable eagerly: here and now, with no task, up to where it first waits.

An ASGI send into a socket with room never waits (uvicorn's writes to the
transport and returns), so started this way it is done for the cost of a call,
where a task per frame, or a task per socket to take frames from a queue, cost
far more in time and memory. Only a send that does wait (the transport's buffer
is full) leaves a rest, for a task to finish: what an eager task is in Python
3.12, without the task. The code runs outside any task of its own, so it must
not look for one (``asyncio.current_task()``); uvicorn's send does not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Generator
from typing import Any


def start(awaitable: Awaitable[None]) -> Awaitable[None] | None:
    """Run ``awaitable`` until it first waits: None if it finished, else the rest of it,
    to be awaited (by a task) to finish it. Its exceptions come straight out of here."""
    steps = awaitable.__await__()
    try:
        awaited = steps.send(None)
    except StopIteration:
        return None
    return _Rest(steps, awaited)


class _Rest:
    """The rest of a started awaitable: awaiting it goes on from where it waits, exactly
    as if the awaiting task had started it itself (what ``yield from`` would do)."""

    __slots__ = ("_awaited", "_steps")

    def __init__(self, steps: Generator[Any, Any, None], awaited: Any) -> None:
        self._steps = steps
        self._awaited = awaited  # what it waits on: the awaiting task waits on it instead

    def __await__(self) -> Generator[Any, Any, None]:
        steps, awaited = self._steps, self._awaited
        while True:
            try:
                value = yield awaited
            except BaseException as error:  # a cancel or a timeout: into the awaitable
                try:
                    awaited = steps.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    awaited = steps.send(value)
                except StopIteration:
                    return
