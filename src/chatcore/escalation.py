"""Who gets the next chat: the assignment policy, pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from chatcore.presence import PresenceStatus

UNLIMITED = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    agent_id: str
    presence: PresenceStatus
    active: bool
    load: int  # conversations this agent holds in AGENT status
    last_assigned_at: datetime | None


def has_room(candidate: Candidate, *, capacity: int) -> bool:
    return capacity == UNLIMITED or candidate.load < capacity


def is_free(candidate: Candidate, *, capacity: int) -> bool:
    return (
        candidate.active
        and candidate.presence is PresenceStatus.ONLINE
        and has_room(candidate, capacity=capacity)
    )


def _fairness(candidate: Candidate) -> tuple[int, bool, datetime | None, str]:
    # Fewest open chats first; then whoever waited longest since their last
    # assignment (never assigned counts as longest); the id keeps it deterministic.
    # Tuples compare element by element, so two Nones are never ordered with `<`.
    ever = candidate.last_assigned_at is not None
    return (candidate.load, ever, candidate.last_assigned_at, candidate.agent_id)


def choose_agent(candidates: Iterable[Candidate], *, capacity: int) -> Candidate | None:
    """The free agent who should take the next chat, or None when nobody is free."""
    free = [c for c in candidates if is_free(c, capacity=capacity)]
    if not free:
        return None
    return min(free, key=_fairness)
