"""The assignment policy: free agents only, fewest chats first, then whoever waited longest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chatcore.escalation import Candidate, choose_agent
from chatcore.presence import PresenceStatus

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# Few distinct values, so ties on load and on time come up often.
assigned_at = st.one_of(st.none(), st.sampled_from([T0 + timedelta(minutes=m) for m in range(3)]))


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[Candidate]:
    ids = draw(st.lists(st.sampled_from([f"agent-{n}" for n in range(8)]), unique=True))
    return [
        Candidate(
            agent_id=agent_id,
            presence=draw(st.sampled_from(PresenceStatus)),
            active=draw(st.booleans()),
            load=draw(st.integers(min_value=0, max_value=4)),
            last_assigned_at=draw(assigned_at),
        )
        for agent_id in ids
    ]


capacities = st.integers(min_value=0, max_value=4)


def free(candidates: list[Candidate], capacity: int) -> list[Candidate]:
    return [
        c
        for c in candidates
        if c.active and c.presence is PresenceStatus.ONLINE and (capacity == 0 or c.load < capacity)
    ]


def rightful(candidates: list[Candidate], capacity: int) -> list[Candidate]:
    """Everyone the policy may pick: least loaded, never assigned first, then waited longest."""
    pool = free(candidates, capacity)
    if not pool:
        return []
    least = min(c.load for c in pool)
    pool = [c for c in pool if c.load == least]
    never = [c for c in pool if c.last_assigned_at is None]
    if never:
        return never
    longest = min(c.last_assigned_at for c in pool if c.last_assigned_at is not None)
    return [c for c in pool if c.last_assigned_at == longest]


@settings(max_examples=200)
@given(candidates=candidate_lists(), capacity=capacities)
def test_the_pick_is_free_least_loaded_and_waited_longest(
    candidates: list[Candidate], capacity: int
) -> None:
    chosen = choose_agent(candidates, capacity=capacity)
    allowed = rightful(candidates, capacity)
    assert (chosen is None) == (not allowed)
    if chosen is not None:
        assert chosen in allowed
        assert chosen.active
        assert chosen.presence is PresenceStatus.ONLINE
        assert capacity == 0 or chosen.load < capacity


@given(candidates=candidate_lists(), capacity=capacities, data=st.data())
def test_the_pick_does_not_depend_on_the_order(
    candidates: list[Candidate], capacity: int, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(candidates))
    assert choose_agent(shuffled, capacity=capacity) == choose_agent(candidates, capacity=capacity)


@given(candidates=candidate_lists())
def test_capacity_zero_means_unlimited(candidates: list[Candidate]) -> None:
    loaded = [
        Candidate(c.agent_id, PresenceStatus.ONLINE, True, 10**6, c.last_assigned_at)
        for c in candidates
    ]
    assert (choose_agent(loaded, capacity=0) is None) == (not loaded)


def test_nobody_free_means_none() -> None:
    candidates = [
        Candidate("away", PresenceStatus.AWAY, True, 0, None),
        Candidate("offline", PresenceStatus.OFFLINE, True, 0, None),
        Candidate("inactive", PresenceStatus.ONLINE, False, 0, None),
        Candidate("full", PresenceStatus.ONLINE, True, 2, None),
    ]
    assert choose_agent(candidates, capacity=2) is None
    assert choose_agent([], capacity=0) is None


def test_never_assigned_goes_before_assigned_then_the_longest_waiting() -> None:
    early = Candidate("early", PresenceStatus.ONLINE, True, 1, T0)
    late = Candidate("late", PresenceStatus.ONLINE, True, 1, T0 + timedelta(minutes=1))
    fresh = Candidate("fresh", PresenceStatus.ONLINE, True, 1, None)
    busy = Candidate("busy", PresenceStatus.ONLINE, True, 2, None)
    assert choose_agent([late, early, fresh, busy], capacity=0) == fresh
    assert choose_agent([late, early, busy], capacity=0) == early
    assert choose_agent([late, busy], capacity=0) == late
