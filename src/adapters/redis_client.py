"""A Redis client that fails fast: what the event bus and the rate limiter both need."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def fail_fast_client(url: str, *, timeout: float) -> redis.Redis:
    """Thread-safe (each call borrows a pooled connection), ``timeout`` on connect and
    on every reply, and no retries (redis-py retries three times by default): callers
    pause after a failure instead, without holding a use case or a request."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
