"""The two RateLimiter adapters: GCRA in this process (a clock of our own) and in Redis.

The in-memory one is driven by an injected clock, so every number is exact. The
Redis one runs against the real local Redis (CHATCORE_TEST_REDIS), each test under
a namespace of its own, and against a port where nothing listens, to show it fails
open: availability over strictness.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from adapters.ratelimit import Limit, MemoryRateLimiter, RateLimits, RedisRateLimiter, policy
from support.redis_server import OwnRedis, wait_until

REDIS_URL = os.environ.get("CHATCORE_TEST_REDIS", "redis://127.0.0.1:6379/0")
FIVE_A_MINUTE = Limit("test", 5, 60.0)  # five at once, then one every 12 s


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _hits(limiter: MemoryRateLimiter | RedisRateLimiter, key: str, n: int, limit: Limit) -> int:
    return sum(limiter.hit(key, limit=limit).allowed for _ in range(n))


# In memory


def test_a_burst_then_one_per_interval_and_the_wait_is_exact() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    assert _hits(limiter, "dana", 5, FIVE_A_MINUTE) == 5
    refused = limiter.hit("dana", limit=FIVE_A_MINUTE)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(12.0)
    clock.now += 11.9
    assert not limiter.hit("dana", limit=FIVE_A_MINUTE).allowed
    clock.now += 0.1
    assert limiter.hit("dana", limit=FIVE_A_MINUTE).allowed
    assert limiter.hit("dana", limit=FIVE_A_MINUTE).retry_after == pytest.approx(12.0)
    clock.now += 60  # a whole window of quiet: the whole burst is back
    assert _hits(limiter, "dana", 6, FIVE_A_MINUTE) == 5


def test_knocking_while_refused_costs_nothing() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    _hits(limiter, "flood", 5, FIVE_A_MINUTE)
    for _ in range(100):
        clock.now += 0.1
        limiter.hit("flood", limit=FIVE_A_MINUTE)
    # 10 s of refused hits later, the next one is still due 12 s after the burst.
    assert limiter.hit("flood", limit=FIVE_A_MINUTE).retry_after == pytest.approx(2.0)


def test_peek_counts_nothing_and_reset_gives_the_whole_burst_back() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    for _ in range(10):
        assert limiter.peek("sam", limit=FIVE_A_MINUTE).allowed
    _hits(limiter, "sam", 5, FIVE_A_MINUTE)
    peeked = limiter.peek("sam", limit=FIVE_A_MINUTE)
    assert not peeked.allowed
    assert peeked.retry_after == pytest.approx(12.0)
    limiter.reset("sam", limit=FIVE_A_MINUTE)
    assert _hits(limiter, "sam", 6, FIVE_A_MINUTE) == 5


def test_keys_and_rules_count_apart() -> None:
    limiter = MemoryRateLimiter(clock=Clock())
    other_rule = Limit("other", 5, 60.0)
    assert _hits(limiter, "a", 6, FIVE_A_MINUTE) == 5
    assert _hits(limiter, "b", 6, FIVE_A_MINUTE) == 5
    assert _hits(limiter, "a", 6, other_rule) == 5


def test_remembered_keys_are_known_until_they_expire() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(clock=clock)
    assert not limiter.remembers("dana@203.0.113.9")
    limiter.remember("dana@203.0.113.9", seconds=30)
    assert limiter.remembers("dana@203.0.113.9")
    assert not limiter.remembers("sam@203.0.113.9")
    clock.now += 20
    limiter.remember("dana@203.0.113.9", seconds=30)  # known again: 30 s from now
    clock.now += 29
    assert limiter.remembers("dana@203.0.113.9")
    clock.now += 1
    assert not limiter.remembers("dana@203.0.113.9")


def test_memory_is_bounded_per_rule_and_expired_keys_go() -> None:
    clock = Clock()
    limiter = MemoryRateLimiter(max_keys_per_rule=100, clock=clock)
    protected = Limit("protected", 1, 60.0)
    limiter.hit("office", limit=protected)
    for n in range(1000):
        limiter.hit(f"made-up-session-{n}", limit=FIVE_A_MINUTE)
    assert limiter.keys(FIVE_A_MINUTE) == 100
    # A flood of one rule's keys does not push out another rule's counts.
    assert not limiter.hit("office", limit=protected).allowed
    clock.now += 60  # every key's allowance is whole again: each new hit sweeps some
    for n in range(60):
        limiter.hit(f"later-{n}", limit=FIVE_A_MINUTE)
    assert limiter.keys(FIVE_A_MINUTE) < 100


def test_threads_hitting_one_key_get_exactly_the_burst() -> None:
    limiter = MemoryRateLimiter(clock=Clock())
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        got = [limiter.hit("shared", limit=Limit("race", 50, 60.0)).allowed for _ in range(40)]
        with lock:
            allowed.extend(got)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50


TWO_A_MINUTE = Limit("pair", 2, 60.0)


def _all_or_none_then_give_back(limiter: MemoryRateLimiter | RedisRateLimiter) -> None:
    """hit_all: every key counted, or (one refusing) none; give_back undoes one hit."""
    both = [("dana", TWO_A_MINUTE), ("dana", FIVE_A_MINUTE)]
    assert limiter.hit_all(both).allowed
    assert limiter.hit_all(both).allowed
    refused = limiter.hit_all(both)
    assert not refused.allowed
    assert refused.retry_after > 0
    assert _hits(limiter, "dana", 5, FIVE_A_MINUTE) == 3  # the refusal counted nothing
    limiter.give_back("dana", limit=TWO_A_MINUTE)
    assert limiter.hit("dana", limit=TWO_A_MINUTE).allowed
    assert not limiter.hit("dana", limit=TWO_A_MINUTE).allowed
    limiter.give_back("nobody", limit=TWO_A_MINUTE)  # nothing to undo, nothing kept
    assert _hits(limiter, "nobody", 3, TWO_A_MINUTE) == 2


def _threads_take_exactly_the_burst(limiter: MemoryRateLimiter | RedisRateLimiter) -> None:
    """Parallel takers of two keys at once: the smaller limit admits exactly its count."""
    keys = [("email", Limit("race-email", 10, 900.0)), ("address", Limit("race-addr", 30, 900.0))]
    allowed: list[bool] = []
    lock = threading.Lock()

    def take() -> None:
        got = [limiter.hit_all(keys).allowed for _ in range(10)]
        with lock:
            allowed.extend(got)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 10
    assert _hits(limiter, "address", 30, Limit("race-addr", 30, 900.0)) == 20


def test_hit_all_takes_every_slot_or_none_and_give_back_returns_one() -> None:
    _all_or_none_then_give_back(MemoryRateLimiter(clock=Clock()))


def test_threads_taking_several_keys_at_once_get_exactly_the_burst() -> None:
    _threads_take_exactly_the_burst(MemoryRateLimiter(clock=Clock()))


# In Redis


@pytest.fixture
def namespace() -> Iterator[str]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error})", pytrace=False)
    name = f"test{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def test_redis_counts_a_burst_then_one_per_interval(namespace: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, namespace=namespace)
    limit = Limit("test", 5, 5.0)  # one back every second
    assert _hits(limiter, "dana", 6, limit) == 5
    refused = limiter.hit("dana", limit=limit)
    assert not refused.allowed
    assert 0.5 < refused.retry_after <= 1.0
    assert limiter.unchecked == 0
    time.sleep(refused.retry_after + 0.05)
    assert limiter.hit("dana", limit=limit).allowed
    assert not limiter.hit("dana", limit=limit).allowed
    limiter.close()


def test_redis_keys_live_in_the_namespace_and_expire_when_whole_again(namespace: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, namespace=namespace)
    limit = Limit("short", 2, 0.3)
    limiter.hit("dana", limit=limit)
    client = redis.Redis.from_url(REDIS_URL)
    key = f"{namespace}:ratelimit:short:dana"
    assert 0 < client.pttl(key) <= 150
    wait_until(lambda: not client.exists(key), timeout=2)
    assert list(client.scan_iter(f"{namespace}:*")) == []
    limiter.close()


def test_two_redis_limiters_share_counts_as_two_instances_would(namespace: str) -> None:
    a = RedisRateLimiter(REDIS_URL, namespace=namespace)
    b = RedisRateLimiter(REDIS_URL, namespace=namespace)
    elsewhere = RedisRateLimiter(REDIS_URL, namespace=namespace + "x")
    assert _hits(a, "dana", 3, FIVE_A_MINUTE) + _hits(b, "dana", 3, FIVE_A_MINUTE) == 5
    assert not a.peek("dana", limit=FIVE_A_MINUTE).allowed
    assert _hits(elsewhere, "dana", 5, FIVE_A_MINUTE) == 5  # another deployment
    b.reset("dana", limit=FIVE_A_MINUTE)
    assert a.peek("dana", limit=FIVE_A_MINUTE).allowed
    for limiter in (a, b, elsewhere):
        limiter.close()
    redis.Redis.from_url(REDIS_URL).delete(f"{namespace}x:ratelimit:test:dana")


def test_redis_remembers_across_instances_until_expiry(namespace: str) -> None:
    a = RedisRateLimiter(REDIS_URL, namespace=namespace)
    b = RedisRateLimiter(REDIS_URL, namespace=namespace)
    a.remember("dana@203.0.113.9", seconds=0.3)
    assert b.remembers("dana@203.0.113.9")
    assert not b.remembers("sam@203.0.113.9")
    wait_until(lambda: not b.remembers("dana@203.0.113.9"), timeout=2)
    a.close()
    b.close()


def test_redis_loads_the_script_again_when_redis_forgot_it(namespace: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, namespace=namespace)
    assert limiter.hit("dana", limit=FIVE_A_MINUTE).allowed
    redis.Redis.from_url(REDIS_URL).script_flush()  # as after a Redis restart
    assert _hits(limiter, "dana", 5, FIVE_A_MINUTE) == 4
    assert limiter.unchecked == 0
    limiter.close()


def test_redis_unreachable_fails_open_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    nowhere = f"redis://127.0.0.1:{_closed_port()}/0"
    limiter = RedisRateLimiter(nowhere, namespace="test", pause_after_failure=60)
    caplog.set_level(logging.WARNING, logger="chatcore.ratelimit")
    started = time.monotonic()
    decisions = [limiter.hit("dana", limit=Limit("tiny", 1, 60.0)) for _ in range(50)]
    assert all(d.allowed for d in decisions)
    assert limiter.unchecked == 50
    assert time.monotonic() - started < 2  # one timeout at most, then it does not try
    warnings = [r for r in caplog.records if r.name == "chatcore.ratelimit"]
    assert len(warnings) == 1, warnings
    assert "allowing requests unchecked" in warnings[0].getMessage()
    limiter.reset("dana", limit=Limit("tiny", 1, 60.0))  # a failing reset raises nothing
    limiter.close()


def test_redis_back_after_an_outage_counts_again(caplog: pytest.LogCaptureFixture) -> None:
    own = OwnRedis()
    own.start()
    limiter = RedisRateLimiter(own.url, namespace="test", pause_after_failure=0.2)
    limit = Limit("tiny", 1, 60.0)
    caplog.set_level(logging.WARNING, logger="chatcore.ratelimit")
    try:
        assert limiter.hit("dana", limit=limit).allowed
        own.stop()
        assert limiter.hit("dana", limit=limit).allowed  # unchecked
        own.start()  # empty: the count and the script are gone
        time.sleep(0.25)
        assert limiter.hit("dana", limit=limit).allowed
        assert not limiter.hit("dana", limit=limit).allowed
    finally:
        limiter.close()
        own.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "chatcore.ratelimit"]
    assert len(messages) == 2, messages
    assert "answers again; 1 request(s) went unchecked" in messages[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_redis_hit_all_takes_every_slot_or_none_and_give_back_returns_one(namespace: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, namespace=namespace)
    _all_or_none_then_give_back(limiter)
    assert limiter.unchecked == 0
    limiter.close()


def test_redis_threads_taking_several_keys_at_once_get_exactly_the_burst(namespace: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, namespace=namespace)
    _threads_take_exactly_the_burst(limiter)
    assert limiter.unchecked == 0
    limiter.close()


def test_confirmed_sessions_are_remembered_within_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The write path skips the store read for a session it confirmed lately; only
    confirmed sessions are kept, and the least recently seen goes past the bound."""
    monkeypatch.setattr(policy, "SESSIONS_REMEMBERED", 3)
    limits = RateLimits(MemoryRateLimiter())
    assert not limits.session_seen("never-confirmed")
    for name in ("a", "b", "c"):
        limits.remember_session(name)
    assert limits.session_seen("a")  # seen again: now the most recent
    limits.remember_session("d")  # past the bound: "b", least recently seen, goes
    assert [limits.session_seen(name) for name in "abcd"] == [True, False, True, True]
    assert not limits.session_seen("never-confirmed")
