"""Presence: the agent's choice, bent to OFFLINE only once its link has lapsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcore.errors import InvalidTransition
from chatcore.presence import (
    LINK_TRANSITIONS,
    Link,
    LinkEvent,
    Presence,
    PresenceStatus,
    choose,
    connect,
    disconnect,
    disconnect_many,
    expire_grace,
    next_link,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=60)

choices = st.sampled_from(PresenceStatus)
# (operation, argument): a presence to choose, or seconds for the clock to move.
operations = st.one_of(
    st.tuples(st.just("choose"), choices),
    st.tuples(st.just("connect"), st.none()),
    st.tuples(st.just("disconnect"), st.none()),
    # The instance holding this many of the connections stopped.
    st.tuples(st.just("instance_gone"), st.integers(min_value=0, max_value=4)),
    st.tuples(st.just("expire"), st.none()),
    # Waits around the grace period's edge, where the rule is decided.
    st.tuples(st.just("wait"), st.sampled_from([0, 1, 30, 59, 60, 61, 90])),
)


@dataclass
class Model:
    """What presence should be, written independently of the link table."""

    chosen: PresenceStatus = PresenceStatus.OFFLINE
    connections: int = 0
    gone_since: datetime | None = None  # the last connection left, and none came back
    lapsed: bool = False
    ever_connected: bool = False

    @property
    def effective(self) -> PresenceStatus:
        return PresenceStatus.OFFLINE if self.lapsed else self.chosen


def _step(presence: Presence, model: Model, op: str, arg: object, now: datetime) -> Presence:
    if op == "choose":
        assert isinstance(arg, PresenceStatus)
        model.chosen = arg
        if model.lapsed:  # a sign of life: the choice stands again
            model.lapsed, model.gone_since = False, None
        return choose(presence, arg)
    if op == "connect":
        model.connections += 1
        model.gone_since, model.lapsed, model.ever_connected = None, False, True
        return connect(presence)
    if op == "disconnect":
        if model.connections == 0:  # nothing to drop: refused, nothing changes
            with pytest.raises(InvalidTransition):
                disconnect(presence, now=now)
            return presence
        model.connections -= 1
        if model.connections == 0:
            model.gone_since = now
        return disconnect(presence, now=now)
    if op == "instance_gone":
        assert isinstance(arg, int)
        dropped = min(arg, model.connections)
        model.connections -= dropped
        if dropped and model.connections == 0:
            model.gone_since = now
        return disconnect_many(presence, arg, now=now)
    assert op == "expire"
    if model.gone_since is not None and not model.lapsed and now >= model.gone_since + GRACE:
        model.lapsed = True
    return expire_grace(presence, now=now, grace=GRACE)


@settings(max_examples=150)
@given(ops=st.lists(operations, max_size=40))
def test_presence_follows_the_model(ops: list[tuple[str, object]]) -> None:
    presence, model, now = Presence(), Model(), T0
    for op, arg in ops:
        if op == "wait":
            assert isinstance(arg, int)
            now += timedelta(seconds=arg)
            continue
        presence = _step(presence, model, op, arg, now)
        assert presence.connections == model.connections >= 0
        assert presence.chosen is model.chosen
        assert presence.effective is model.effective
        assert (presence.link is Link.LAPSED) == model.lapsed
        if not model.ever_connected:
            assert presence.effective is model.chosen
        if presence.link not in (Link.GRACE, Link.LAPSED):
            assert presence.disconnected_at is None


@given(
    chosen=choices,
    waits=st.lists(st.integers(min_value=0, max_value=10**7), max_size=10),
)
def test_an_agent_that_never_connected_keeps_its_choice(
    chosen: PresenceStatus, waits: list[int]
) -> None:
    presence = choose(Presence(), chosen)
    now = T0
    for wait in waits:
        now += timedelta(seconds=wait)
        assert not presence.grace_over(now, grace=GRACE)
        presence = expire_grace(presence, now=now, grace=GRACE)
        assert presence.effective is chosen
        assert presence.grace_deadline(GRACE) is None


@given(
    chosen=choices,
    connections=st.integers(min_value=1, max_value=4),
    before=st.integers(min_value=0, max_value=59_999),
    after=st.integers(min_value=0, max_value=10**7),
)
def test_the_link_lapses_at_the_grace_deadline_never_before(
    chosen: PresenceStatus, connections: int, before: int, after: int
) -> None:
    presence = choose(Presence(), chosen)
    for _ in range(connections):
        presence = connect(presence)
    for _ in range(connections):
        presence = disconnect(presence, now=T0)
    assert presence.link is Link.GRACE
    assert presence.grace_deadline(GRACE) == T0 + GRACE
    assert not presence.grace_over(T0 + timedelta(milliseconds=before), grace=GRACE)
    assert presence.grace_over(T0 + GRACE + timedelta(seconds=after), grace=GRACE)
    early = expire_grace(presence, now=T0 + timedelta(milliseconds=before), grace=GRACE)
    assert early == presence
    assert early.effective is chosen
    late = expire_grace(presence, now=T0 + GRACE + timedelta(seconds=after), grace=GRACE)
    assert late.link is Link.LAPSED
    assert late.effective is PresenceStatus.OFFLINE
    back = connect(late)  # reconnecting restores the choice
    assert back.effective is chosen
    assert (back.link, back.connections, back.disconnected_at) == (Link.LIVE, 1, None)


def test_one_of_several_connections_dropping_keeps_the_link_live() -> None:
    presence = connect(connect(choose(Presence(), PresenceStatus.ONLINE)))
    presence = disconnect(presence, now=T0)
    assert (presence.link, presence.connections) == (Link.LIVE, 1)
    assert presence.grace_deadline(GRACE) is None


@given(connections=st.integers(min_value=1, max_value=6), data=st.data())
def test_many_connections_gone_at_once_is_as_many_disconnects(
    connections: int, data: st.DataObject
) -> None:
    presence = choose(Presence(), PresenceStatus.ONLINE)
    for _ in range(connections):
        presence = connect(presence)
    count = data.draw(st.integers(min_value=1, max_value=connections))
    one_by_one = presence
    for _ in range(count):
        one_by_one = disconnect(one_by_one, now=T0)
    assert disconnect_many(presence, count, now=T0) == one_by_one


def test_choosing_after_a_lapse_makes_the_choice_stand_again() -> None:
    presence = disconnect(connect(Presence(PresenceStatus.AWAY)), now=T0)
    presence = expire_grace(presence, now=T0 + GRACE, grace=GRACE)
    assert presence.effective is PresenceStatus.OFFLINE
    presence = choose(presence, PresenceStatus.ONLINE)
    assert presence.link is Link.IDLE
    assert presence.disconnected_at is None  # set only in GRACE and LAPSED
    assert presence.effective is PresenceStatus.ONLINE


def _in(link: Link, connections: int = 0) -> Presence:
    gone = T0 if link in (Link.GRACE, Link.LAPSED) else None
    return Presence(PresenceStatus.ONLINE, link, connections, gone)


# Each link event as the public function that fires it on a presence in any link state.
FIRE: dict[LinkEvent, Callable[[Link], Presence]] = {
    LinkEvent.CONNECT: lambda link: connect(_in(link)),
    LinkEvent.DISCONNECT: lambda link: disconnect(_in(link, 2), now=T0),
    LinkEvent.LAST_DISCONNECT: lambda link: disconnect(_in(link, 1), now=T0),
    LinkEvent.CHOOSE: lambda link: choose(_in(link), PresenceStatus.AWAY),
    LinkEvent.GRACE_EXPIRED: lambda link: expire_grace(_in(link), now=T0 + GRACE, grace=GRACE),
}
PAIRS = [(link, event) for link in Link for event in LinkEvent]


@pytest.mark.parametrize(("link", "event"), PAIRS)
def test_every_link_event_pair_follows_the_table(link: Link, event: LinkEvent) -> None:
    target = LINK_TRANSITIONS[link].get(event)
    if target is not None:
        assert FIRE[event](link).link is target
    elif event is LinkEvent.GRACE_EXPIRED:
        # expire_grace only acts on a link in grace; elsewhere it is a no-op, not a refusal.
        assert FIRE[event](link) == _in(link)
    else:
        with pytest.raises(InvalidTransition):
            FIRE[event](link)


@pytest.mark.parametrize(
    ("link", "event"), [p for p in PAIRS if p[1] not in LINK_TRANSITIONS[p[0]]]
)
def test_the_table_refuses_every_missing_pair(link: Link, event: LinkEvent) -> None:
    with pytest.raises(InvalidTransition):
        next_link(_in(link), event)
