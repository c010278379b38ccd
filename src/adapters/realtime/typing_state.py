"""Typing indicators: who is typing where, and when that stops being true on its own.

"typing…" must never outlive the typist: an indicator not refreshed within the
timeout, a typist whose connection drops, and a typist who sends the message,
all end with the same event saying ``is_typing: false``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapters.realtime.connection import Connection

# (conversation id, who): who is an agent id, or "customer" for the conversation's customer.
TypistKey = tuple[str, str]
CUSTOMER = "customer"


@dataclass(eq=False)
class Indicator:
    connection: Connection
    deadline: float
    stop: Callable[[], None]  # sends is_typing false to the same people


class TypingTracker:
    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._shown: dict[TypistKey, Indicator] = {}

    def started(
        self, key: TypistKey, connection: Connection, *, now: float, stop: Callable[[], None]
    ) -> None:
        self._shown[key] = Indicator(connection, now + self._timeout, stop)

    def stopped(self, key: TypistKey) -> bool:
        """Forget the indicator; True when one was shown (the caller announces the stop)."""
        return self._shown.pop(key, None) is not None

    def end(self, key: TypistKey) -> None:
        """The typist sent its message, or left: announce the stop if it was showing."""
        indicator = self._shown.pop(key, None)
        if indicator is not None:
            indicator.stop()

    def end_connection(self, connection: Connection) -> None:
        for key in [k for k, shown in self._shown.items() if shown.connection is connection]:
            self.end(key)

    def expire(self, *, now: float) -> None:
        for key in [k for k, shown in self._shown.items() if shown.deadline <= now]:
            self.end(key)
