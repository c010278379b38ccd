"""Hands received events to subscribers: once each, in order, never failing the reader.

An event's payload is handed on as the bytes the publisher encoded (codec.py).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

from adapters.redis_bus.codec import ResyncNotice, TypingNotice, UndecodableEvent, decode

logger = logging.getLogger(__name__)

Subscriber = Callable[[bytes], None]  # an event's payload
TypingSubscriber = Callable[[TypingNotice], None]
ResyncSubscriber = Callable[[ResyncNotice], None]


class Dispatcher:
    """The subscribers of one listener, and the ids of the events it recently passed on.

    An event sent to two channels an instance listens to (a conversation's and its
    holder's) arrives twice, one right after the other: remembering the last
    ``window`` ids is enough to drop the second, in bounded memory.
    """

    def __init__(self, *, window: int = 4096, ignore_origin: str | None = None) -> None:
        self._window = window
        self._ignore_origin = ignore_origin
        self._seen: OrderedDict[str, None] = OrderedDict()
        # Copy-on-write, as in the in-process bus: a subscriber may unsubscribe itself.
        self._subscriptions: tuple[tuple[object, Subscriber], ...] = ()
        self._typing: TypingSubscriber | None = None
        self._resync: ResyncSubscriber | None = None

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        key = object()
        self._subscriptions = (*self._subscriptions, (key, callback))

        def unsubscribe() -> None:
            self._subscriptions = tuple(s for s in self._subscriptions if s[0] is not key)

        return unsubscribe

    def on_typing(self, callback: TypingSubscriber | None) -> None:
        """The one receiver of typing notices (None: they are dropped)."""
        self._typing = callback

    def on_resync(self, callback: ResyncSubscriber | None) -> None:
        """The one receiver of resync notices (None: they are dropped)."""
        self._resync = callback

    def deliver(self, data: bytes) -> None:
        try:
            received = decode(data)
        except UndecodableEvent as error:
            logger.error("Redis event listener skipped an undecodable event: %s", error)
            return
        if received.event_id in self._seen:
            return
        self._seen[received.event_id] = None
        if len(self._seen) > self._window:
            self._seen.popitem(last=False)
        if received.origin == self._ignore_origin:
            return
        item = received.item
        if isinstance(item, ResyncNotice):
            if self._resync is not None:
                try:
                    self._resync(item)
                except Exception:
                    logger.exception("the resync subscriber failed")
            return
        if isinstance(item, TypingNotice):
            if self._typing is not None:
                try:
                    self._typing(item)
                except Exception:
                    logger.exception("the typing subscriber failed")
            return
        for _, subscriber in self._subscriptions:
            try:
                subscriber(item)
            except Exception:
                logger.exception("an event subscriber failed on event %s", received.event_id)
