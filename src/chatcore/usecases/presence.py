"""Presence that follows connections: the realtime adapter reports, the grace rule decides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import chatcore.presence
from chatcore.agents import Agent
from chatcore.errors import AgentNotFound
from chatcore.events import AgentPresenceChanged
from chatcore.ports import StorageUnavailable
from chatcore.presence import Link, Presence
from chatcore.usecases._base import Context, Tx, transaction


def _change_presence(
    ctx: Context, tx: Tx, agent: Agent, move: Callable[[Presence], Presence]
) -> Agent:
    before = agent.shown_presence
    agent.presence = move(agent.presence)
    tx.uow.agents.save(agent)
    if agent.shown_presence is not before:
        tx.record(AgentPresenceChanged(agent.id, agent.display_name, agent.shown_presence))
    return agent


def _load(tx: Tx, agent_id: str) -> Agent:
    agent = tx.uow.agents.get(agent_id)
    if agent is None:
        raise AgentNotFound()
    return agent


class InstanceForgotten(StorageUnavailable):
    """Another instance gave this one up for dead (it was silent too long): until it
    registers again and its sockets reconnect, it may count no connection."""


def agent_connected(ctx: Context, agent_id: str, *, instance_id: str) -> Agent:
    with transaction(ctx) as tx:
        # The instance first, then the agent: the lock order of ServerInstanceRepository.
        if not tx.uow.instances.is_known(instance_id):
            raise InstanceForgotten("This server was given up for dead; reconnect.")
        # A count for an unknown agent would break the storage's foreign key (a 500):
        # its absence is the answer. Read again after counting, which queues this unit
        # behind the other counts of the agent, so the agent is read as they left it.
        _load(tx, agent_id)
        tx.uow.instances.count_connection(instance_id, agent_id)
        return _change_presence(ctx, tx, _load(tx, agent_id), chatcore.presence.connect)


def agent_disconnected(ctx: Context, agent_id: str, *, instance_id: str) -> Agent | None:
    """None when the connection was not counted (its instance was given up meanwhile)."""
    now = ctx.clock.now()
    with transaction(ctx) as tx:
        if not tx.uow.instances.uncount_connection(instance_id, agent_id):
            return None
        return _change_presence(
            ctx, tx, _load(tx, agent_id), lambda p: chatcore.presence.disconnect(p, now=now)
        )


def expire_presence(ctx: Context, *, now: datetime | None = None) -> list[Agent]:
    """Lapse every agent whose grace ran out; the realtime adapter calls this on a timer.

    A read first: the timer fires every second, and most seconds nobody is due,
    so the write lock is only taken when there is something to write.
    """
    now = now or ctx.clock.now()
    grace = ctx.policy.presence_grace
    with transaction(ctx, write=False) as tx:
        in_grace = tx.uow.agents.with_link(Link.GRACE)
        due = [agent.id for agent in in_grace if agent.presence.grace_over(now, grace=grace)]
    if not due:
        return []
    changed = []
    with transaction(ctx) as tx:
        for agent_id in due:
            agent = _load(tx, agent_id)
            if agent.presence.grace_over(now, grace=grace):
                lapse = partial(chatcore.presence.expire_grace, now=now, grace=grace)
                changed.append(_change_presence(ctx, tx, agent, lapse))
    return changed


def instance_alive(ctx: Context, instance_id: str) -> bool:
    """A server instance says it still lives (at start-up, then on a timer).

    False when it was not known: new, or given up for dead by another instance
    after a silence, its counts already let go. Either way it is known from here
    on; one that was given up must have its sockets reconnect to count again.
    """
    with transaction(ctx) as tx:
        return tx.uow.instances.beat(instance_id, now=ctx.clock.now())


def forget_silent_instances(
    ctx: Context, *, silent_for: timedelta, keep: str | None = None
) -> list[Agent]:
    """Let go of the connections of every instance silent for ``silent_for`` or more
    (but ``keep``, the caller's own).

    Their agents go through the grace period from now, as if those connections had
    just dropped: a crash never leaves an agent online for ever, and an agent also
    connected through a live instance stays online. Several instances may run this
    at once: each instance is forgotten by whichever gets to it first.
    """
    now = ctx.clock.now()
    with transaction(ctx, write=False) as tx:
        silent = tx.uow.instances.silent_since(now - silent_for)
    changed: list[Agent] = []
    for instance_id in silent:
        if instance_id != keep:
            changed.extend(_forget(ctx, instance_id, now=now))
    return changed


def instance_stopped(ctx: Context, instance_id: str) -> list[Agent]:
    """A clean stop: whatever the instance still counted goes, and the instance too."""
    return _forget(ctx, instance_id, now=ctx.clock.now())


def _forget(ctx: Context, instance_id: str, *, now: datetime) -> list[Agent]:
    changed = []
    with transaction(ctx) as tx:
        held = tx.uow.instances.forget(instance_id)
        for agent_id in sorted(held):
            agent = tx.uow.agents.get(agent_id)
            if agent is not None:
                leave = partial(chatcore.presence.disconnect_many, count=held[agent_id], now=now)
                changed.append(_change_presence(ctx, tx, agent, leave))
    return changed
