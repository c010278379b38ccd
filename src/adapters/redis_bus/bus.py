"""RedisEventBus: the EventPublisher that sends committed events to every instance.

Each event is encoded once, here, by the ``encode`` it is given (with the realtime
adapter: the event's frames for the sockets and the ids that route them), and
those bytes go to each of the event's channels; listeners hand them on as they are.

``publish`` runs on the worker thread that committed, while it still holds the
write unit, so it must be quick whatever Redis is doing:

- one pipelined round trip per call (every event to each of its channels), and it
  waits for the replies: the next commit's events cannot overtake these, which
  keeps commit order across instances (and each conversation's ``seq`` order);
- short socket timeouts and no retries, so a dead Redis costs a use case at most
  one timeout;
- after a failure, a short pause during which events are dropped without even
  trying, so an unreachable Redis does not add a timeout to every write while the
  write lock is held.

Dropping is safe because the data is already committed: a client that misses an
event resyncs by ``seq`` from the snapshot when it reconnects (docs/realtime.md,
"Order, no loss, and seq"). Every drop is counted and logged at ERROR.

Clients must then be told to reconnect, and a listener coming back after the outage
is not enough: it may be back before this publisher, which goes on dropping until
its pause ends, and the sockets that listener just had resync would miss those
events for good (tests/faults/test_redis_outage.py saw it). So after a drop a timer
thread sends a ``ResyncNotice`` to every instance (channels.resync_channel) as
soon as Redis takes it, retrying once per pause (traffic or not: a drop with no
commit after it must be announced too), and listeners resync the sockets that
were open at the time of the last drop.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import redis

from adapters.redis_bus.channels import NAMESPACE, channels_for, resync_channel
from adapters.redis_bus.codec import ResyncNotice, encode, new_event_id
from adapters.redis_client import fail_fast_client
from chatcore.events import DomainEvent

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 0.25
PAUSE_AFTER_FAILURE_SECONDS = 1.0


class RedisEventBus:
    def __init__(
        self,
        url: str,
        *,
        encode: Callable[[DomainEvent], bytes],
        instance_id: str | None = None,
        namespace: str = NAMESPACE,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        pause_after_failure: float = PAUSE_AFTER_FAILURE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._encode = encode
        self.instance_id = instance_id or uuid.uuid4().hex
        self.namespace = namespace
        self._pause = pause_after_failure
        self._clock = clock
        # The pause below does the retrying, without holding a use case.
        self._client = fail_fast_client(url, timeout=socket_timeout)
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._dropped_in_outage = 0  # not announced yet
        self._last_drop = 0.0  # the clock's time of the last drop
        self._notice: threading.Timer | None = None
        self._closed = False
        self.published = 0
        self.dropped = 0

    def publish(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        if self._clock() < self._paused_until:
            # Counted, not logged one by one: the failure that started the pause
            # was, and the next attempt's failure or recovery reports the total.
            with self._lock:
                self.dropped += len(events)
                self._dropped_in_outage += len(events)
                self._last_drop = self._clock()
                self._announce_later()
            return
        pipeline = self._client.pipeline(transaction=False)
        for event in events:
            payload = self._encode(event)
            data = encode(payload, event_id=new_event_id(), origin=self.instance_id)
            for channel in channels_for(event, namespace=self.namespace):
                pipeline.publish(channel, data)
        try:
            pipeline.execute()
        except redis.RedisError as error:
            with self._lock:
                self._paused_until = self._clock() + self._pause
            self._drop(len(events), reason=f"{type(error).__name__}: {error}")
            return
        with self._lock:
            self.published += len(events)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._notice is not None:
                self._notice.cancel()
        self._client.close()

    def _announce_later(self) -> None:
        """With the lock held: a notice of the drops is on its way, once the pause ends."""
        if self._notice is None and not self._closed:
            wait = max(self._paused_until - self._clock(), 0.0) + 0.01
            self._notice = threading.Timer(wait, self._announce)
            self._notice.daemon = True
            self._notice.start()

    def _announce(self) -> None:
        """On the timer's thread: tell every instance that events were dropped."""
        with self._lock:
            self._notice = None
            dropped, last_drop = self._dropped_in_outage, self._last_drop
            self._dropped_in_outage = 0
            if not dropped or self._closed:
                return
        notice = ResyncNotice(dropped, self._clock() - last_drop)
        data = encode(notice, event_id=new_event_id(), origin=self.instance_id)
        try:
            self._client.publish(resync_channel(namespace=self.namespace), data)
        except redis.RedisError:
            with self._lock:  # still failing: again after another pause
                self._dropped_in_outage += dropped
                self._paused_until = self._clock() + self._pause
                self._announce_later()
            return
        logger.warning(
            "Redis event bus at %s: publishing again after dropping %d event(s); "
            "told every instance to have its clients resync",
            self.url,
            dropped,
        )

    def _drop(self, count: int, *, reason: str) -> None:
        with self._lock:
            self.dropped += count
            self._dropped_in_outage += count
            self._last_drop = self._clock()
            in_outage = self._dropped_in_outage
            self._announce_later()
        logger.error(
            "Redis event bus at %s: DROPPED %d committed event(s), %d since publishing "
            "last worked: %s. Other instances' clients catch up by seq when they resync.",
            self.url,
            count,
            in_outage,
            reason,
        )
