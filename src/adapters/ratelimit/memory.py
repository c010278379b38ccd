"""The limiter for one instance: counts in this process, bounded, safe across threads."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from adapters.ratelimit.gcra import ALLOWED, Decision, Limit, gcra, give_back

# Keys per rule. An entry is about 200 bytes, so a full rule is a few MiB. Each rule
# has its own: a flood of made-up session ids cannot push out the per-address counts.
MAX_KEYS_PER_RULE = 20_000
# Expired entries dropped per hit, from the least recently hit end: enough to keep
# up with how fast keys are made, without a sweep that walks them all.
SWEEP_PER_HIT = 2
# Remembered keys (remember()) are kept as a rule of their own, until when they last.
KNOWN = "known"


class MemoryRateLimiter:
    """GCRA state per key, least recently hit first.

    At the cap the least recently hit key is forgotten even if it has not expired:
    that forgives a little (it starts afresh) rather than refusing newcomers.
    """

    blocking = False

    def __init__(
        self,
        *,
        max_keys_per_rule: int = MAX_KEYS_PER_RULE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_keys_per_rule
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: dict[str, OrderedDict[str, float]] = {}

    def hit(self, key: str, *, limit: Limit) -> Decision:
        return self.hit_all([(key, limit)])

    def hit_all(self, keys: Sequence[tuple[str, Limit]]) -> Decision:
        with self._lock:
            now = self._clock()
            tables = [self._rules.setdefault(limit.name, OrderedDict()) for _, limit in keys]
            decided = [
                gcra(dues.get(key), now=now, limit=limit)
                for dues, (key, limit) in zip(tables, keys, strict=True)
            ]
            refused = [decision.retry_after for decision, _ in decided if not decision.allowed]
            if refused:
                return Decision(False, max(refused))
            for dues, (key, _), (_, due) in zip(tables, keys, decided, strict=True):
                if due is not None:
                    dues[key] = due
                    dues.move_to_end(key)
                    self._sweep(dues, now)
            return ALLOWED

    def give_back(self, key: str, *, limit: Limit) -> None:
        with self._lock:
            dues = self._rules.get(limit.name)
            if dues is None or key not in dues:
                return
            due = give_back(dues[key], now=self._clock(), limit=limit)
            if due is None:
                del dues[key]
            else:
                dues[key] = due

    def peek(self, key: str, *, limit: Limit) -> Decision:
        with self._lock:
            dues = self._rules.get(limit.name)
            due = dues.get(key) if dues is not None else None
            if due is None:
                return ALLOWED
            decision, _ = gcra(due, now=self._clock(), limit=limit)
            return decision

    def reset(self, key: str, *, limit: Limit) -> None:
        with self._lock:
            dues = self._rules.get(limit.name)
            if dues is not None:
                dues.pop(key, None)

    def remember(self, key: str, *, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            known = self._rules.setdefault(KNOWN, OrderedDict())
            known[key] = now + seconds
            known.move_to_end(key)
            self._sweep(known, now)

    def remembers(self, key: str) -> bool:
        with self._lock:
            known = self._rules.get(KNOWN)
            until = known.get(key) if known is not None else None
            return until is not None and until > self._clock()

    def keys(self, limit: Limit) -> int:
        """How many keys a rule holds (for tests and curiosity)."""
        with self._lock:
            return len(self._rules.get(limit.name, ()))

    def close(self) -> None:
        with self._lock:
            self._rules.clear()

    def _sweep(self, dues: OrderedDict[str, float], now: float) -> None:
        for _ in range(SWEEP_PER_HIT):
            oldest = next(iter(dues.items()), None)
            if oldest is None or oldest[1] > now:
                break
            dues.popitem(last=False)
        while len(dues) > self._max:
            dues.popitem(last=False)
