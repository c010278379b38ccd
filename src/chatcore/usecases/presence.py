"""Presence that follows connections: the realtime adapter reports, the grace rule decides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from chatcore import presence as rules
from chatcore.agents import Agent
from chatcore.errors import AgentNotFound
from chatcore.events import AgentPresenceChanged
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


def agent_connected(ctx: Context, agent_id: str) -> Agent:
    with transaction(ctx) as tx:
        return _change_presence(ctx, tx, _load(tx, agent_id), rules.connect)


def agent_disconnected(ctx: Context, agent_id: str) -> Agent:
    now = ctx.clock.now()
    with transaction(ctx) as tx:
        return _change_presence(
            ctx, tx, _load(tx, agent_id), lambda p: rules.disconnect(p, now=now)
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
        due = [agent.id for agent in in_grace if _grace_over(agent, now, grace)]
    if not due:
        return []
    changed = []
    with transaction(ctx) as tx:
        for agent_id in due:
            agent = _load(tx, agent_id)
            if _grace_over(agent, now, grace):
                lapse = partial(rules.expire_grace, now=now, grace=grace)
                changed.append(_change_presence(ctx, tx, agent, lapse))
    return changed


def _grace_over(agent: Agent, now: datetime, grace: timedelta) -> bool:
    deadline = agent.presence.grace_deadline(grace)
    return deadline is not None and deadline <= now


def forget_connections(ctx: Context) -> list[Agent]:
    """At start-up: connections counted by a process that is gone are gone too.

    Every agent still counted as connected goes through the grace period from
    now, as if its connections had just dropped: a crash never leaves an agent
    online for ever. (One process owns the counts; several instances sharing a
    database need their counts kept per instance.)
    """
    now = ctx.clock.now()
    with transaction(ctx) as tx:
        return [
            _change_presence(ctx, tx, agent, lambda p: rules.disconnect_all(p, now=now))
            for agent in tx.uow.agents.with_link(Link.LIVE)
        ]
