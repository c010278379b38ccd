"""Presence that follows connections, through the use cases the realtime adapter calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatcore.errors import AgentNotFound, NoAgentAvailable
from chatcore.events import AgentPresenceChanged
from chatcore.presence import PresenceStatus
from chatcore.usecases import Context, presence
from support.fakes import Fakes, make_context
from support.usecase_people import Staff, escalate, first_admin, go_online, set_presence, start_chat

GRACE = 60


HERE = "instance-here"  # the server process these sockets are on
THERE = "instance-there"  # another, sharing the storage


def online_admin() -> tuple[Context, Fakes, Staff]:
    ctx, fakes = make_context(grace_seconds=GRACE)
    presence.instance_alive(ctx, HERE)
    ada = go_online(ctx, first_admin(ctx))
    fakes.publisher.clear()
    return ctx, fakes, ada


def shown(fakes: Fakes, staff: Staff) -> PresenceStatus:
    return fakes.tables.agents[staff.id].shown_presence


def test_connections_coming_and_going_within_grace_change_nothing_visible() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    presence.agent_disconnected(ctx, ada.id, instance_id=HERE)
    presence.agent_disconnected(ctx, ada.id, instance_id=HERE)
    assert presence.expire_presence(ctx, now=fakes.clock.peek() + timedelta(seconds=59.999)) == []
    presence.agent_connected(ctx, ada.id, instance_id=HERE)  # back within grace
    assert presence.expire_presence(ctx, now=fakes.clock.peek() + timedelta(days=1)) == []
    assert shown(fakes, ada) is PresenceStatus.ONLINE
    assert fakes.publisher.batches == []


def test_the_last_connection_gone_for_the_grace_period_means_offline() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    presence.agent_disconnected(ctx, ada.id, instance_id=HERE)
    fakes.clock.advance(GRACE - 1)
    assert presence.expire_presence(ctx) == []
    fakes.clock.advance(1)
    [lapsed] = presence.expire_presence(ctx)
    assert lapsed.id == ada.id
    assert shown(fakes, ada) is PresenceStatus.OFFLINE
    assert fakes.publisher.events == [AgentPresenceChanged(ada.id, "Ada", PresenceStatus.OFFLINE)]
    assert presence.expire_presence(ctx) == []  # once only
    with pytest.raises(NoAgentAvailable):
        escalate(ctx, start_chat(ctx))
    # Reconnecting restores what the agent chose, with the event.
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    assert shown(fakes, ada) is PresenceStatus.ONLINE
    assert fakes.publisher.events[-1] == AgentPresenceChanged(ada.id, "Ada", PresenceStatus.ONLINE)


def test_an_agent_that_never_connected_keeps_what_it_set() -> None:
    ctx, fakes, ada = online_admin()
    fakes.clock.advance(timedelta(days=30))
    assert presence.expire_presence(ctx) == []
    assert shown(fakes, ada) is PresenceStatus.ONLINE
    assert escalate(ctx, start_chat(ctx)) == ada.id


def test_a_lapse_of_an_agent_that_chose_offline_is_silent() -> None:
    ctx, fakes, ada = online_admin()
    set_presence(ctx, ada, PresenceStatus.OFFLINE)
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    presence.agent_disconnected(ctx, ada.id, instance_id=HERE)
    fakes.publisher.clear()
    [lapsed] = presence.expire_presence(ctx, now=fakes.clock.peek() + timedelta(seconds=GRACE))
    assert lapsed.id == ada.id
    assert fakes.publisher.batches == []


def test_a_stray_disconnect_changes_nothing() -> None:
    ctx, fakes, ada = online_admin()
    before = fakes.tables.agents[ada.id]
    assert presence.agent_disconnected(ctx, ada.id, instance_id=HERE) is None
    assert fakes.tables.agents[ada.id] == before
    with pytest.raises(AgentNotFound):
        presence.agent_connected(ctx, "no-such-agent", instance_id=HERE)
    assert fakes.tables.held == {}  # refused whole: no count left behind


def test_an_agent_on_two_instances_stays_online_when_one_dies() -> None:
    ctx, fakes, ada = online_admin()
    presence.instance_alive(ctx, THERE)
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    presence.agent_connected(ctx, ada.id, instance_id=THERE)
    fakes.clock.advance(31)
    presence.instance_alive(ctx, HERE)  # THERE stopped beating: it crashed
    [let_go] = presence.forget_silent_instances(ctx, silent_for=timedelta(seconds=30))
    assert let_go.id == ada.id
    assert let_go.presence.connections == 1
    fakes.clock.advance(timedelta(days=1))
    presence.instance_alive(ctx, HERE)
    assert presence.forget_silent_instances(ctx, silent_for=timedelta(seconds=30)) == []
    assert presence.expire_presence(ctx) == []
    assert shown(fakes, ada) is PresenceStatus.ONLINE
    assert fakes.publisher.batches == []


def test_an_instance_that_dies_takes_its_last_connections_through_grace() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    fakes.clock.advance(30)
    [let_go] = presence.forget_silent_instances(ctx, silent_for=timedelta(seconds=30))
    assert let_go.presence.connections == 0
    assert presence.forget_silent_instances(ctx, silent_for=timedelta(seconds=30)) == []  # once
    fakes.clock.advance(GRACE - 1)
    assert presence.expire_presence(ctx) == []  # the grace period runs from the forgetting
    fakes.clock.advance(1)
    assert [a.id for a in presence.expire_presence(ctx)] == [ada.id]
    assert shown(fakes, ada) is PresenceStatus.OFFLINE


def test_a_silent_instance_is_not_forgotten_early() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    fakes.clock.advance(29.999)
    assert presence.forget_silent_instances(ctx, silent_for=timedelta(seconds=30)) == []
    assert fakes.tables.agents[ada.id].presence.connections == 1


def test_an_instance_given_up_for_dead_counts_nothing_until_it_registers_again() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    fakes.clock.advance(31)
    presence.forget_silent_instances(ctx, silent_for=timedelta(seconds=30))
    with pytest.raises(presence.InstanceForgotten):
        presence.agent_connected(ctx, ada.id, instance_id=HERE)
    # Its old socket closing is not counted twice.
    assert presence.agent_disconnected(ctx, ada.id, instance_id=HERE) is None
    assert not presence.instance_alive(ctx, HERE)  # it learns it was given up
    assert presence.instance_alive(ctx, HERE)
    presence.agent_connected(ctx, ada.id, instance_id=HERE)
    assert fakes.tables.agents[ada.id].presence.connections == 1
