"""Events inside one process: the EventPublisher the composition root hands to use cases."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from chatcore.events import DomainEvent

logger = logging.getLogger(__name__)

Subscriber = Callable[[DomainEvent], None]


class InProcessEventBus:
    """Calls every subscriber synchronously, in subscription order, for each event in order.

    ``publish`` runs on the thread that committed (a worker thread, while it still
    holds the write lock), so subscribers must not block: they hand off, e.g. with
    ``loop.call_soon_threadsafe``. A subscriber that raises is logged and skipped;
    the others still hear every event, and the use case that published never fails
    for it (what it reports is already committed).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Copy-on-write: publish() reads a snapshot without the lock, so a subscriber may
        # (un)subscribe from inside its own callback without deadlocking.
        self._subscriptions: tuple[tuple[object, Subscriber], ...] = ()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add a subscriber; call the returned function to remove it (twice is harmless)."""
        key = object()  # this subscription, even if the same callback is subscribed twice
        with self._lock:
            self._subscriptions = (*self._subscriptions, (key, callback))

        def unsubscribe() -> None:
            with self._lock:
                self._subscriptions = tuple(s for s in self._subscriptions if s[0] is not key)

        return unsubscribe

    def publish(self, events: Sequence[DomainEvent]) -> None:
        subscriptions = self._subscriptions
        for event in events:
            for _, subscriber in subscriptions:
                try:
                    subscriber(event)
                except Exception:
                    logger.exception("an event subscriber failed on %s", type(event).__name__)
