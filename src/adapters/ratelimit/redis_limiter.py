"""The limiter for several instances: GCRA in Redis, so every instance counts alike.

One Lua script per hit, atomic in Redis, on Redis's own clock (``TIME``): instances
whose clocks disagree still agree on every count. Keys live under the deployment's
namespace and expire when their allowance is whole again, so Redis keeps nothing
idle.

Availability over strictness: when Redis does not answer, requests are allowed,
counted (``unchecked``) and reported with one warning per outage, never one per
request. After a failure the limiter does not even try for a short pause, so a dead
Redis costs at most one short timeout now and then, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import redis

from adapters.ratelimit.gcra import ALLOWED, Decision, Limit
from adapters.redis_client import fail_fast_client

log = logging.getLogger("chatcore.ratelimit")

SOCKET_TIMEOUT_SECONDS = 0.25
PAUSE_AFTER_FAILURE_SECONDS = 1.0

# KEYS: the keys hit together. ARGV[1]: 1 to count the hits or 0 to only ask, then
# each key's interval and period in ms. All or nothing: every key is counted if each
# allows it, none if one refuses, in one step, so parallel requests cannot all pass
# a check before any of them is counted. Returns {allowed, ms until allowed}.
# Milliseconds: Lua's numbers print 14 significant digits, and ms since 1970 need 13.
GCRA_SCRIPT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local dues = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local due = tonumber(redis.call('GET', key)) or now
  if due < now then due = now end
  local new_due = due + interval
  local earliest = new_due - tonumber(ARGV[2 * i + 1])
  if earliest - now > wait then wait = earliest - now end
  dues[i] = new_due
end
if wait > 0 then
  return {0, wait}
end
if ARGV[1] == '1' then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, string.format('%d', dues[i]), 'PX', dues[i] - now)
  end
end
return {1, 0}
"""

# KEYS[1]: the key; ARGV[1]: its interval in ms. Undoes one counted hit.
GIVE_BACK_SCRIPT = """
local due = tonumber(redis.call('GET', KEYS[1]))
if not due then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local earlier = due - tonumber(ARGV[1])
if earlier > now then
  redis.call('SET', KEYS[1], string.format('%d', earlier), 'PX', earlier - now)
else
  redis.call('DEL', KEYS[1])
end
return 1
"""


def _interval_ms(limit: Limit) -> int:
    return max(1, round(limit.interval * 1000))


class RedisRateLimiter:
    blocking = True

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
        pause_after_failure: float = PAUSE_AFTER_FAILURE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._prefix = f"{namespace}:ratelimit:"
        self._pause = pause_after_failure
        self._clock = clock
        self._client = fail_fast_client(url, timeout=socket_timeout)
        # EVALSHA, loading the script again if Redis lost it (a restart, SCRIPT FLUSH).
        self._script = self._client.register_script(GCRA_SCRIPT)
        self._give_back = self._client.register_script(GIVE_BACK_SCRIPT)
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._down = False  # since a failure, until Redis answers again
        self._in_outage = 0
        self.unchecked = 0  # requests allowed without asking Redis

    def hit(self, key: str, *, limit: Limit) -> Decision:
        return self._ask([(key, limit)], count=True)

    def hit_all(self, keys: Sequence[tuple[str, Limit]]) -> Decision:
        return self._ask(keys, count=True)

    def peek(self, key: str, *, limit: Limit) -> Decision:
        return self._ask([(key, limit)], count=False)

    def give_back(self, key: str, *, limit: Limit) -> None:
        if self._paused():
            return
        try:
            self._give_back(keys=[self._key(key, limit)], args=[_interval_ms(limit)])
        except redis.RedisError as error:
            self._failed(error)

    def reset(self, key: str, *, limit: Limit) -> None:
        if self._paused():
            return
        try:
            self._client.delete(self._key(key, limit))
        except redis.RedisError as error:
            self._failed(error)

    def remember(self, key: str, *, seconds: float) -> None:
        if self._paused():
            return
        try:
            self._client.set(self._prefix + "known:" + key, b"1", px=max(1, round(seconds * 1000)))
        except redis.RedisError as error:
            self._failed(error)

    def remembers(self, key: str) -> bool:
        # Redis down: not known, so the stricter per-email check applies (and, with
        # Redis down, lets everything through unchecked anyway).
        if self._paused():
            return False
        try:
            return bool(self._client.exists(self._prefix + "known:" + key))
        except redis.RedisError as error:
            self._failed(error)
            return False

    def close(self) -> None:
        self._client.close()

    def _key(self, key: str, limit: Limit) -> str:
        return f"{self._prefix}{limit.name}:{key}"

    def _ask(self, keys: Sequence[tuple[str, Limit]], *, count: bool) -> Decision:
        if self._paused():
            return self._unchecked()
        args: list[int] = [int(count)]
        for _, limit in keys:
            interval_ms = _interval_ms(limit)
            args += [interval_ms, interval_ms * limit.count]
        try:
            reply = self._script(keys=[self._key(key, limit) for key, limit in keys], args=args)
            allowed, wait_ms = int(reply[0]), int(reply[1])
        except redis.RedisError as error:
            self._failed(error)
            return self._unchecked()
        if self._down:
            self._back()
        return ALLOWED if allowed else Decision(False, wait_ms / 1000)

    def _paused(self) -> bool:
        return self._clock() < self._paused_until

    def _unchecked(self) -> Decision:
        with self._lock:
            self.unchecked += 1
            self._in_outage += 1
        return ALLOWED

    def _failed(self, error: redis.RedisError) -> None:
        with self._lock:
            first, self._down = not self._down, True
            self._paused_until = self._clock() + self._pause
        if first:
            log.warning(
                "Rate limiter: Redis at %s does not answer (%s: %s); allowing requests "
                "unchecked until it does",
                self.url,
                type(error).__name__,
                error,
            )

    def _back(self) -> None:
        with self._lock:
            if not self._down:  # another thread saw it first
                return
            unchecked, self._in_outage, self._down = self._in_outage, 0, False
        log.warning(
            "Rate limiter: Redis at %s answers again; %d request(s) went unchecked",
            self.url,
            unchecked,
        )
