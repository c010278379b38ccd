"""Presence that follows connections, through the use cases the realtime adapter calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import Fakes, make_context
from people import Staff, escalate, first_admin, on_duty, start_chat

from chatcore.errors import AgentNotFound, InvalidTransition, NoAgentAvailable
from chatcore.events import AgentPresenceChanged
from chatcore.presence import PresenceStatus
from chatcore.usecases import Context, presence

GRACE = 60


def online_admin() -> tuple[Context, Fakes, Staff]:
    ctx, fakes = make_context(grace_seconds=GRACE)
    ada = on_duty(ctx, first_admin(ctx))
    fakes.publisher.clear()
    return ctx, fakes, ada


def shown(fakes: Fakes, staff: Staff) -> PresenceStatus:
    return fakes.tables.agents[staff.id].shown_presence


def test_connections_coming_and_going_within_grace_change_nothing_visible() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id)
    presence.agent_connected(ctx, ada.id)
    presence.agent_disconnected(ctx, ada.id)
    presence.agent_disconnected(ctx, ada.id)
    assert presence.expire_presence(ctx, now=fakes.clock.peek() + timedelta(seconds=59.999)) == []
    presence.agent_connected(ctx, ada.id)  # back within grace
    assert presence.expire_presence(ctx, now=fakes.clock.peek() + timedelta(days=1)) == []
    assert shown(fakes, ada) is PresenceStatus.ONLINE
    assert fakes.publisher.batches == []


def test_the_last_connection_gone_for_the_grace_period_means_offline() -> None:
    ctx, fakes, ada = online_admin()
    presence.agent_connected(ctx, ada.id)
    presence.agent_disconnected(ctx, ada.id)
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
    presence.agent_connected(ctx, ada.id)
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
    on_duty(ctx, ada, PresenceStatus.OFFLINE)
    presence.agent_connected(ctx, ada.id)
    presence.agent_disconnected(ctx, ada.id)
    fakes.publisher.clear()
    [lapsed] = presence.expire_presence(ctx, now=fakes.clock.peek() + timedelta(seconds=GRACE))
    assert lapsed.id == ada.id
    assert fakes.publisher.batches == []


def test_a_stray_disconnect_is_refused_and_changes_nothing() -> None:
    ctx, fakes, ada = online_admin()
    before = fakes.tables.agents[ada.id]
    with pytest.raises(InvalidTransition):
        presence.agent_disconnected(ctx, ada.id)
    assert fakes.tables.agents[ada.id] == before
    with pytest.raises(AgentNotFound):
        presence.agent_connected(ctx, "no-such-agent")
