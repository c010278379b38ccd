"""What is limited, per what, and how much: the rules, over a RateLimiter that counts.

Keys are hashes: what is counted (a customer's session id, an email) is never
kept in memory or in Redis as itself, and a long header cannot make a long key.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from adapters.ratelimit.gcra import Decision, Limit
from chatcore.agents import normalize_email


class RateLimiter(Protocol):
    """The port: counts hits per key under a Limit (GCRA, gcra.py)."""

    # True when hit() may wait on the network: callers then run it off the event loop.
    blocking: bool

    def hit(self, key: str, *, limit: Limit) -> Decision:
        """Count one hit if the limit allows it."""
        ...

    def hit_all(self, keys: Sequence[tuple[str, Limit]]) -> Decision:
        """Count one hit on every key if each one's limit allows it, else none, in
        one step: two callers never both pass on the last slot."""
        ...

    def give_back(self, key: str, *, limit: Limit) -> None:
        """Undo one counted hit: a slot taken before the work, that the work did
        not use up."""
        ...

    def peek(self, key: str, *, limit: Limit) -> Decision:
        """Whether a hit would be allowed now, counting nothing."""
        ...

    def reset(self, key: str, *, limit: Limit) -> None:
        """Forget the key: its whole allowance is back."""
        ...

    def remember(self, key: str, *, seconds: float) -> None:
        """Keep ``key`` known for ``seconds`` from now (again, if it already was)."""
        ...

    def remembers(self, key: str) -> bool:
        """Whether ``key`` is known (remembered and not yet expired)."""
        ...

    def close(self) -> None: ...


# Per client address. A widget starts one conversation per visitor; an office or a
# mobile carrier may put many visitors behind one address.
CONVERSATION_STARTS = Limit("starts", 30, 600.0)
# Per customer session: messages, quick replies and escalations. People type far
# slower than one message every 2 s for long; a burst of 30 covers pasted lines.
CUSTOMER_WRITES = Limit("writes", 30, 60.0)
# Per client address, for session ids that name no session (403 anyway): made-up ids
# cost nothing to invent, so each must not take a row of its own beside real ones.
UNKNOWN_SESSION_WRITES = Limit("writes-unknown", 30, 60.0)
# Failed logins only. Per email: guessing one agent's password from many addresses.
# Per address: guessing many agents' from one (an office's typos fit easily).
LOGIN_FAILURES_PER_EMAIL = Limit("login-email", 10, 900.0)
LOGIN_FAILURES_PER_ADDRESS = Limit("login-address", 30, 900.0)
# Per email *and* address, for an address the agent has logged in from before: there
# only its own failures count, so nobody else's can lock the real agent out.
LOGIN_FAILURES_PER_KNOWN_ADDRESS = Limit("login-pair", 10, 900.0)
# How long a successful login makes its address known for that email.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600.0
# Inbound WebSocket frames per connection (typing, ping, subscribe…): the clients we
# ship send one every few seconds. Counted on the socket itself (realtime/session.py).
SOCKET_FRAMES = Limit("frames", 40, 10.0)


@dataclass(frozen=True, slots=True)
class Limits:
    """The documented numbers (docs/operating.md, "Rate limits"); tests pass smaller ones."""

    conversation_starts: Limit = CONVERSATION_STARTS
    customer_writes: Limit = CUSTOMER_WRITES
    unknown_session_writes: Limit = UNKNOWN_SESSION_WRITES
    login_failures_per_email: Limit = LOGIN_FAILURES_PER_EMAIL
    login_failures_per_address: Limit = LOGIN_FAILURES_PER_ADDRESS
    login_failures_per_known_address: Limit = LOGIN_FAILURES_PER_KNOWN_ADDRESS
    known_address_seconds: float = KNOWN_ADDRESS_SECONDS
    socket_frames: Limit = SOCKET_FRAMES


class RateLimited(Exception):
    """Over a limit: the HTTP adapter answers 429 with ``Retry-After``."""

    def __init__(self, what: str, *, retry_after: float) -> None:
        # Whole seconds, at least 1: what the header can say without inviting a retry
        # a moment too early.
        self.retry_after = max(1, math.ceil(retry_after))
        self.message = f"{what}. Try again in {self.retry_after} s."
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """The failed-login slots one password check holds (RateLimits.login_attempt)."""

    email: str
    address: str | None
    taken: list[tuple[str, Limit]] = field(default_factory=list)
    counted_on_failure: list[tuple[str, Limit]] = field(default_factory=list)


def digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _pair(email: str, address: str | None) -> str | None:
    return None if address is None else digest(normalize_email(email) + "\n" + address)


# Sessions seen to exist, remembered so that a customer's every write need not read
# the store again (a thread hop and a query on the message path). Only confirmed
# sessions enter, so invented ids cannot push a real one out; sessions are never
# deleted, so a remembered one stays true.
SESSIONS_REMEMBERED = 10_000


class RateLimits:
    """The rules. Each check raises RateLimited; None for what is unknown skips it."""

    def __init__(self, limiter: RateLimiter, limits: Limits | None = None) -> None:
        self.limiter = limiter
        self.limits = limits or Limits()
        self._sessions_seen: OrderedDict[str, None] = OrderedDict()
        self._sessions_lock = threading.Lock()

    def session_seen(self, session_id: str) -> bool:
        """Whether this session was confirmed to exist lately (no store read needed)."""
        key = digest(session_id)
        with self._sessions_lock:
            if self._sessions_seen.get(key, False) is None:
                self._sessions_seen.move_to_end(key)
                return True
            return False

    def remember_session(self, session_id: str) -> None:
        """Note a session the store confirmed; the least recently seen goes past the bound."""
        key = digest(session_id)
        with self._sessions_lock:
            self._sessions_seen[key] = None
            self._sessions_seen.move_to_end(key)
            while len(self._sessions_seen) > SESSIONS_REMEMBERED:
                self._sessions_seen.popitem(last=False)

    @property
    def blocking(self) -> bool:
        return self.limiter.blocking

    def conversation_start(self, address: str | None) -> None:
        if address is not None:
            self._hit(address, self.limits.conversation_starts, "Too many new conversations")

    def customer_write(
        self, session_id: str | None, *, real_session: bool, address: str | None
    ) -> None:
        """Per session for a session that exists; per address for an id that names
        none, so inventing ids neither escapes the limit nor fills the table."""
        if session_id is None:  # no session: the use case answers 403 anyway
            return
        if real_session:
            self._hit(session_id, self.limits.customer_writes, "Too many messages")
        elif address is not None:
            self._hit(address, self.limits.unknown_session_writes, "Too many messages")

    def login_attempt(self, *, email: str, address: str | None) -> LoginAttempt:
        """Take a failed-login slot before the password is checked (bcrypt), so that
        however many guesses arrive at once, at most the limit's number are checked.
        The same answer whether the email exists or not. The slot stays taken when
        the password is wrong and goes back when it is right.

        From an address this agent logged in from before, only failures from there
        count: someone guessing the password elsewhere cannot lock the agent out. From
        any other address the email's failures count too, wherever they came from.
        """
        limits = self.limits
        per_email = (digest(normalize_email(email)), limits.login_failures_per_email)
        per_address = (
            [] if address is None else [(digest(address), limits.login_failures_per_address)]
        )
        pair = _pair(email, address)
        per_pair = [] if pair is None else [(pair, limits.login_failures_per_known_address)]
        if pair is not None and self.limiter.remembers(pair):
            # The email's failures from here still count for every other address;
            # they do not decide this request, so they are counted once it failed.
            taken, counted_on_failure = per_pair, [per_email, *per_address]
        else:
            taken, counted_on_failure = [per_email, *per_address], per_pair
        decision = self.limiter.hit_all(taken)
        if not decision.allowed:
            raise RateLimited("Too many failed logins", retry_after=decision.retry_after)
        return LoginAttempt(email, address, taken, counted_on_failure)

    def login_failed(self, attempt: LoginAttempt) -> None:
        # Its slots stay taken; the rest are counted, never refused here: the answer
        # is the 401 already decided.
        for key, limit in attempt.counted_on_failure:
            self.limiter.hit(key, limit=limit)

    def login_succeeded(self, attempt: LoginAttempt) -> None:
        """The slots go back, the address becomes (stays) known for this email, and
        its own failures are forgiven. The email's earlier failures stay: wiping them
        would tell a guesser that the account exists and is in use."""
        self.login_unused(attempt)
        pair = _pair(attempt.email, attempt.address)
        if pair is not None:
            self.limiter.remember(pair, seconds=self.limits.known_address_seconds)
            self.limiter.reset(pair, limit=self.limits.login_failures_per_known_address)

    def login_unused(self, attempt: LoginAttempt) -> None:
        """The password was right, or never checked: no failure to count."""
        for key, limit in attempt.taken:
            self.limiter.give_back(key, limit=limit)

    def close(self) -> None:
        self.limiter.close()

    def _hit(self, value: str, limit: Limit, what: str) -> None:
        decision = self.limiter.hit(digest(value), limit=limit)
        if not decision.allowed:
            raise RateLimited(what, retry_after=decision.retry_after)
