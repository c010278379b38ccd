"""Rate limits shared through Redis: two real ``chatcore serve`` processes count as one.

With ``CHATCORE_REDIS_URL`` every instance counts in Redis, so a client cannot get
twice the allowance by being spread over two instances. The numbers here are the
documented defaults (docs/operating.md, "Rate limits"): 30 conversation starts per
address, 10 failed logins per email. Then Redis going away: the limits fail open,
and count again once it is back.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from adapters.ratelimit import Limit, Limits, RedisRateLimiter
from adapters.ratelimit.policy import CONVERSATION_STARTS, LOGIN_FAILURES_PER_EMAIL
from support.postgres import scratch_database, url_for
from support.redis_server import REDIS_URL, OwnRedis, require_redis, wait_until
from support.rest import PASSWORD, expect, first_admin
from support.serve_process import Instance, scale_out_instance
from support.servers import LiveServer

START = "/api/v1/customer/conversations/start"
LOGIN = "/api/v1/agent/auth/login"
ON = {"CHATCORE_RATE_LIMITS": "on"}


@contextmanager
def two_limited_instances() -> Iterator[tuple[Instance, Instance]]:
    require_redis(REDIS_URL)
    namespace = f"test{uuid.uuid4().hex[:12]}"
    with (
        scratch_database() as name,
        tempfile.TemporaryDirectory(prefix="chatcore-limits-") as scratch,
        ExitStack() as stack,
    ):
        database = url_for(name)
        a = stack.enter_context(
            scale_out_instance(database, REDIS_URL, namespace, Path(scratch), "a", env_extra=ON)
        )
        b = stack.enter_context(
            scale_out_instance(database, REDIS_URL, namespace, Path(scratch), "b", env_extra=ON)
        )
        yield a, b


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_starts_and_failed_logins_are_counted_across_instances() -> None:
    with (
        two_limited_instances() as (a, b),
        httpx.Client(base_url=a.url, timeout=30) as on_a,
        httpx.Client(base_url=b.url, timeout=30) as on_b,
    ):
        admin = first_admin(on_a)
        # Half the allowance on each: together, all of it.
        starts = CONVERSATION_STARTS.count
        for n in range(starts):
            expect((on_a if n % 2 else on_b).post(START), 201)
        _refused(on_a.post(START))
        _refused(on_b.post(START))

        wrong = {"email": admin.email, "password": "wrong password!"}
        for n in range(LOGIN_FAILURES_PER_EMAIL.count):
            expect((on_a if n % 2 else on_b).post(LOGIN, json=wrong), 401)
        right = {"email": admin.email, "password": PASSWORD}
        _refused(on_a.post(LOGIN, json=right))
        _refused(on_b.post(LOGIN, json=right))


def test_without_redis_the_limits_fail_open_and_count_again_when_it_is_back(
    make_server: Callable[..., LiveServer],
) -> None:
    own = OwnRedis()
    own.start()
    try:
        server = make_server(
            rate_limits=True,
            redis_url=own.url,
            limits=Limits(conversation_starts=Limit("starts", 2, 600.0)),
        )
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(2):
                expect(client.post(START), 201)
            _refused(client.post(START))
            own.stop()
            # Availability over strictness: while Redis is away, nothing is refused.
            for _ in range(3):
                expect(client.post(START), 201)
            limits = server.chatcore.rate_limits
            assert limits is not None
            assert isinstance(limits.limiter, RedisRateLimiter)
            assert limits.limiter.unchecked >= 3
            own.start()  # empty, as after a crash: counting starts over
            # The limiter waits a second after a failure before it asks Redis again.
            wait_until(lambda: client.post(START).status_code == 429, timeout=10)
    finally:
        own.stop()
