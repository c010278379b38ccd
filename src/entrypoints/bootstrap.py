"""The composition root: the one place that picks an adapter for every port and wires them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from starlette.applications import Starlette

from adapters.events import InProcessEventBus
from adapters.http import create_app
from adapters.postgres import PostgresDatabase
from adapters.ratelimit import Limits, MemoryRateLimiter, RateLimits, RedisRateLimiter
from adapters.realtime import Realtime, RealtimeSettings
from adapters.realtime.liveness import LivenessSettings
from adapters.realtime.outbound import event_to_bytes
from adapters.redis_bus import RedisEventBus, RedisListener
from adapters.security import BcryptHasher, JwtTokenService
from adapters.sqlite import SqliteDatabase
from adapters.system import RandomIds, SystemClock
from adapters.web import web_routes
from chatcore.events import DomainEvent
from chatcore.ports import Clock, EventPublisher, UnitOfWork
from chatcore.usecases import Context, Policy
from entrypoints.settings import Settings, is_postgres, resolve_secret, trusted_hosts


class Database(Protocol):
    """What the composition root needs from a storage adapter, SQLite or PostgreSQL."""

    def uow(self, *, write: bool = True) -> UnitOfWork: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


def open_database(settings: Settings) -> Database:
    """PostgreSQL for a ``postgresql://`` URL, else the SQLite file (the default)."""
    if is_postgres(settings.database):
        return PostgresDatabase(settings.database)
    return SqliteDatabase(settings.database)


@dataclass(frozen=True, slots=True)
class Core:
    """Everything but the web app: what the CLI's operator commands need."""

    settings: Settings
    database: Database
    # One publish path per mode. Alone: the in-process bus, which this process's
    # realtime hub (and whoever else in it) listens to. With CHATCORE_REDIS_URL:
    # Redis, where committed events go to reach every instance, this one included
    # (operator commands too: a deactivation closes sockets on all of them); no
    # in-process bus then.
    bus: InProcessEventBus | None
    ctx: Context
    redis: RedisEventBus | None

    def close(self) -> None:
        self.database.close()
        if self.redis is not None:
            self.redis.close()


@dataclass(frozen=True, slots=True)
class Chatcore(Core):
    app: Starlette
    realtime: Realtime
    rate_limits: RateLimits | None  # None: CHATCORE_RATE_LIMITS=off

    def close(self) -> None:
        Core.close(self)  # zero-argument super() does not work in slotted dataclasses
        if self.rate_limits is not None:
            self.rate_limits.close()


def build_rate_limits(settings: Settings, limits: Limits) -> RateLimits | None:
    """Counted in Redis when there is one, so every instance counts alike; else here."""
    if not settings.rate_limits:
        return None
    if settings.redis_url:
        return RateLimits(
            RedisRateLimiter(settings.redis_url, namespace=settings.redis_namespace), limits
        )
    return RateLimits(MemoryRateLimiter(), limits)


def build_context(settings: Settings) -> Core:
    """Storage, events, clock, ids, passwords and tokens, wired into one use-case Context."""
    secret = resolve_secret(settings)  # first: a bad key file fails before storage opens
    database = open_database(settings)
    clock = SystemClock()
    bus, redis = None, None
    publisher: EventPublisher
    if settings.redis_url:
        publisher = redis = RedisEventBus(
            settings.redis_url,
            encode=_frames_for_every_instance(clock),
            namespace=settings.redis_namespace,
        )
    else:
        publisher = bus = InProcessEventBus()
    ctx = Context(
        uow=database.uow,
        publisher=publisher,
        clock=clock,
        ids=RandomIds(),
        hasher=BcryptHasher(rounds=settings.bcrypt_rounds),
        tokens=JwtTokenService(secret, ttl=timedelta(seconds=settings.token_ttl_seconds)),
        policy=Policy(
            agent_capacity=settings.agent_capacity,
            presence_grace=timedelta(seconds=settings.presence_grace_seconds),
        ),
    )
    return Core(settings=settings, database=database, bus=bus, ctx=ctx, redis=redis)


def _frames_for_every_instance(clock: Clock) -> Callable[[DomainEvent], bytes]:
    """What the Redis bus publishes: the event's frames, encoded once, here."""
    return lambda event: event_to_bytes(event, now=clock.now())


def build(settings: Settings, *, limits: Limits | None = None) -> Chatcore:
    """The whole server: the Core plus the ASGI app that serves it, WebSocket included.

    ``limits``: the rate limits' numbers, the documented ones unless a test says.
    """
    core = build_context(settings)
    limits = limits or Limits()
    rate_limits = build_rate_limits(settings, limits)
    listener: Callable[[Callable[[bool], None]], RedisListener] | None = None
    if core.redis is not None:
        redis = core.redis

        def listener(on_health: Callable[[bool], None]) -> RedisListener:
            # One per process, on the server's loop; same instance id as the publisher.
            return RedisListener(
                redis.url,
                instance_id=redis.instance_id,
                namespace=redis.namespace,
                on_health=on_health,
            )

    realtime = Realtime(
        core.ctx,
        subscribe=core.bus.subscribe if core.bus is not None else None,
        listener=listener,
        namespace=settings.redis_namespace,
        instance_id=core.redis.instance_id if core.redis is not None else None,
        settings=RealtimeSettings(
            heartbeat_seconds=settings.heartbeat_seconds,
            typing_timeout_seconds=settings.typing_timeout_seconds,
            queue_frames=settings.ws_queue_frames,
            allowed_origins=settings.allowed_origins,
            liveness=LivenessSettings(
                silent_seconds=float(settings.instance_timeout_seconds),
                sole_instance=not is_postgres(settings.database),
            ),
            frame_limit=limits.socket_frames if settings.rate_limits else None,
        ),
    )
    app = create_app(
        core.ctx,
        readiness=lambda: realtime.ready() and core.database.ping(),
        allowed_origins=settings.allowed_origins,
        allowed_hosts=trusted_hosts(settings),
        trust_proxy=settings.trust_proxy,
        rate_limits=rate_limits,
        extra_routes=[*realtime.routes, *web_routes()],
        lifespan=lambda _: realtime.running(),
    )
    return Chatcore(
        settings=core.settings,
        database=core.database,
        bus=core.bus,
        ctx=core.ctx,
        redis=core.redis,
        app=app,
        realtime=realtime,
        rate_limits=rate_limits,
    )
