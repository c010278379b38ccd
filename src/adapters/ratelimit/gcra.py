"""GCRA, the generic cell rate algorithm: a token bucket kept as one number.

The state of a key is its "theoretical arrival time" (``due``): when the bucket
would be full again. A hit moves it one ``interval`` on; a hit is refused when
that would put it more than the limit's ``seconds`` ahead of now. So ``count``
hits may come at once, then one every ``seconds / count``, and the wait a refusal
names is exact, which is what ``Retry-After`` needs. A key whose ``due`` has passed
is the same as no key, so the state can expire with it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Float sums of intervals drift by far less than this; without it a hit exactly on
# time could be refused for a rounding error.
_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Limit:
    """``count`` hits at once, then one more every ``seconds / count``.

    ``name`` keeps one rule's counts apart from another's (and is part of its keys).
    """

    name: str
    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError(f"limit {self.name}: count and seconds must be positive")

    @property
    def interval(self) -> float:
        return self.seconds / self.count


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until a hit would be allowed; 0 when it is


ALLOWED = Decision(True)


def gcra(due: float | None, *, now: float, limit: Limit) -> tuple[Decision, float | None]:
    """One hit on a key whose state is ``due`` (None: never hit, or expired).

    Returns the decision and the state to keep: the new ``due`` when allowed, the
    old one when refused (a refused hit costs nothing, so a client that keeps
    knocking while refused does not push its own wait further out).
    """
    start = now if due is None or due < now else due
    new_due = start + limit.interval
    earliest = new_due - limit.seconds  # when this hit fits in the bucket
    if earliest > now + _SLACK:
        return Decision(False, earliest - now), due
    return ALLOWED, new_due


def give_back(due: float | None, *, now: float, limit: Limit) -> float | None:
    """Undo one allowed hit on a key whose state is ``due``: the state to keep, None
    when nothing is left to remember. A slot taken before the work it guards, and not
    used up by it (a login that succeeded), is returned this way."""
    if due is None:
        return None
    earlier = due - limit.interval
    return earlier if earlier > now else None
