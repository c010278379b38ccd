"""RedisEventBus: the EventPublisher that sends committed events to other instances.

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
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from adapters.redis_bus.channels import NAMESPACE, channels_for
from adapters.redis_bus.codec import encode, new_event_id
from chatcore.events import DomainEvent

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 0.25
PAUSE_AFTER_FAILURE_SECONDS = 1.0


class RedisEventBus:
    def __init__(
        self,
        url: str,
        *,
        instance_id: str | None = None,
        namespace: str = NAMESPACE,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        pause_after_failure: float = PAUSE_AFTER_FAILURE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.instance_id = instance_id or uuid.uuid4().hex
        self.namespace = namespace
        self._pause = pause_after_failure
        self._clock = clock
        # Thread-safe: each publish borrows a pooled connection. Retries are off
        # (redis-py retries three times by default): the pause below does that job
        # without holding a use case.
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._dropped_in_outage = 0
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
            return
        pipeline = self._client.pipeline(transaction=False)
        for event in events:
            data = encode(event, event_id=new_event_id(), origin=self.instance_id)
            for channel in channels_for(event, namespace=self.namespace):
                pipeline.publish(channel, data)
        try:
            pipeline.execute()
        except redis.RedisError as error:
            with self._lock:
                self._paused_until = self._clock() + self._pause
            self._drop(len(events), reason=f"{type(error).__name__}: {error}")
            return
        self._published(len(events))

    def close(self) -> None:
        self._client.close()

    def _drop(self, count: int, *, reason: str) -> None:
        with self._lock:
            self.dropped += count
            self._dropped_in_outage += count
            in_outage = self._dropped_in_outage
        logger.error(
            "Redis event bus at %s: DROPPED %d committed event(s), %d since publishing "
            "last worked: %s. Other instances' clients catch up by seq when they resync.",
            self.url,
            count,
            in_outage,
            reason,
        )

    def _published(self, count: int) -> None:
        with self._lock:
            self.published += count
            recovered_after, self._dropped_in_outage = self._dropped_in_outage, 0
        if recovered_after:
            logger.warning(
                "Redis event bus at %s: publishing again after dropping %d event(s)",
                self.url,
                recovered_after,
            )
