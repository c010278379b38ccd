"""Fakes at chatcore's non-storage ports, and nowhere else: the domain under test is the real one.

``make_context()`` wires the real use-case Context to the real in-memory store
(adapters.memory, watched at its commits), a publisher that records, a clock
that moves only when told, counting ids, a transparent password hasher and
readable signed tokens.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.memory import IntegrityError
from adapters.memory.tables import Tables
from chatcore.bot import FaqEntry
from chatcore.conversation import Conversation
from chatcore.errors import Unauthorized
from chatcore.escalation import UNLIMITED
from chatcore.events import ConversationUpdated, DomainEvent, MessageCreated
from chatcore.ports import IssuedToken, TokenClaims
from chatcore.usecases import Context, Policy
from support.watched_store import CommitFailed, WatchedStore

__all__ = [
    "SAMPLE_FAQS",
    "CommitFailed",
    "FakeClock",
    "FakeHasher",
    "FakeTokens",
    "Fakes",
    "IntegrityError",
    "RecordingPublisher",
    "SequentialIds",
    "Tables",
    "WatchedStore",
    "make_context",
]

START = datetime(2026, 11, 25, 21, 49, 26, 123000, tzinfo=UTC)

SAMPLE_FAQS = [
    FaqEntry(
        "reset-password",
        "How do I reset my password?",
        'Click "Forgot password" on the sign-in page and follow the link we email you.',
        0,
    ),
    FaqEntry(
        "shipping-time",
        "How long does shipping take?",
        "Orders leave our warehouse within two business days; delivery takes 3 to 5 more.",
        1,
    ),
    FaqEntry(
        "refund-policy",
        "What is your refund policy?",
        "Return any item within 30 days for a full refund to your original payment method.",
        2,
    ),
    FaqEntry(
        "opening-hours",
        "When is support open?",
        "Our team answers Monday to Friday, 9:00 to 18:00 CET.",
        3,
    ),
]


def _to_ms(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the clock keeps aware datetimes only")
    when = when.astimezone(UTC)
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


class FakeClock:
    """Aware UTC, truncated to milliseconds; moves by ``tick`` on each reading, else when told."""

    def __init__(self, start: datetime = START, *, tick: timedelta = timedelta(0)) -> None:
        self._now = _to_ms(start)
        self.tick = tick

    def now(self) -> datetime:
        now = self._now
        self._now = _to_ms(self._now + self.tick)
        return now

    def peek(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = _to_ms(when)

    def advance(self, by: timedelta | float) -> datetime:
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        self._now = _to_ms(self._now + step)
        return self._now


class SequentialIds:
    """UUID-shaped ids from a counter; secrets as long as 128 random bits would be."""

    def __init__(self) -> None:
        self.issued = 0

    def new_id(self) -> str:
        self.issued += 1
        return f"00000000-0000-4000-8000-{self.issued:012x}"

    def new_secret(self) -> str:
        self.issued += 1
        return f"secret-{self.issued:032x}"


class FakeHasher:
    """hash = "h:" + password, so tests can read it; remembers every verify call."""

    def __init__(self) -> None:
        self.verified: list[str | None] = []

    def hash(self, password: str) -> str:
        return "h:" + password

    def verify(self, password: str, hashed: str | None) -> bool:
        self.verified.append(hashed)
        return hashed is not None and hmac.compare_digest(hashed, "h:" + password)


class FakeTokens:
    """``agent|token id|expiry ms|signature``: readable, yet forging or editing one fails."""

    def __init__(self, *, ttl: timedelta = timedelta(hours=12), secret: str = "test") -> None:
        self.ttl = ttl
        self._secret = secret.encode()

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:16]

    def issue(self, agent_id: str, *, token_id: str, now: datetime) -> IssuedToken:
        expires_at = _to_ms(now + self.ttl)
        payload = f"{agent_id}|{token_id}|{int(expires_at.timestamp() * 1000)}"
        return IssuedToken(f"{payload}|{self._sign(payload)}", token_id, expires_at)

    def read(self, token: str, *, now: datetime) -> TokenClaims:
        try:
            agent_id, token_id, expiry, signature = token.split("|")
            expires_at = datetime.fromtimestamp(int(expiry) / 1000, UTC)
        except ValueError:
            raise Unauthorized() from None
        genuine = hmac.compare_digest(signature, self._sign(f"{agent_id}|{token_id}|{expiry}"))
        if not genuine or now >= expires_at:
            raise Unauthorized()
        return TokenClaims(agent_id, token_id, expires_at)


class RecordingPublisher:
    """Keeps every published batch; checks that what an event reports is committed."""

    def __init__(self, database: WatchedStore | None = None) -> None:
        self.batches: list[tuple[DomainEvent, ...]] = []
        self._database = database

    def publish(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            raise AssertionError("an empty batch was published")
        if self._database is not None:
            self._check_committed(self._database, events)
        self.batches.append(tuple(events))

    @staticmethod
    def _check_committed(database: WatchedStore, events: Sequence[DomainEvent]) -> None:
        writer = database.writer
        if writer is not None and not writer.committed:
            raise AssertionError("events were published before the commit")
        newest: dict[str, Conversation] = {}  # one batch may move a conversation twice
        for event in events:
            if isinstance(event, MessageCreated):
                stored = database.tables.messages.get(event.message.id)
                if stored != event.message:
                    raise AssertionError(f"message {event.message.id} is not stored as sent")
            if isinstance(event, ConversationUpdated):
                newest[event.view.conversation.id] = event.view.conversation
        for conversation_id, reported in newest.items():
            if database.tables.conversations.get(conversation_id) != reported:
                raise AssertionError(f"conversation {conversation_id} is not stored as sent")

    @property
    def events(self) -> list[DomainEvent]:
        return [event for batch in self.batches for event in batch]

    def clear(self) -> None:
        self.batches.clear()


@dataclass(frozen=True, slots=True)
class Fakes:
    db: WatchedStore
    publisher: RecordingPublisher
    clock: FakeClock
    ids: SequentialIds
    hasher: FakeHasher
    tokens: FakeTokens

    @property
    def tables(self) -> Tables:
        """What is committed right now."""
        return self.db.tables


def make_context(
    capacity: int = UNLIMITED,
    grace_seconds: float = 60,
    *,
    faqs: Sequence[FaqEntry] = SAMPLE_FAQS,
    token_ttl: timedelta = timedelta(hours=12),
) -> tuple[Context, Fakes]:
    db = WatchedStore(faqs=faqs)
    fakes = Fakes(
        db=db,
        publisher=RecordingPublisher(db),
        clock=FakeClock(),
        ids=SequentialIds(),
        hasher=FakeHasher(),
        tokens=FakeTokens(ttl=token_ttl),
    )
    ctx = Context(
        uow=fakes.db,
        publisher=fakes.publisher,
        clock=fakes.clock,
        ids=fakes.ids,
        hasher=fakes.hasher,
        tokens=fakes.tokens,
        policy=Policy(agent_capacity=capacity, presence_grace=timedelta(seconds=grace_seconds)),
    )
    return ctx, fakes
