"""Presence that follows connections: the realtime adapter reports, the grace rule decides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chatcore import presence as rules
from chatcore.agents import Agent
from chatcore.errors import AgentNotFound
from chatcore.events import AgentPresenceChanged
from chatcore.presence import Presence
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
    """Lapse every agent whose grace ran out; the realtime adapter calls this on a timer."""
    now = now or ctx.clock.now()
    grace = ctx.policy.presence_grace
    changed = []
    with transaction(ctx) as tx:
        for agent in tx.uow.agents.all():
            deadline = agent.presence.grace_deadline(grace)
            if deadline is not None and deadline <= now:
                changed.append(
                    _change_presence(
                        ctx, tx, agent, lambda p: rules.expire_grace(p, now=now, grace=grace)
                    )
                )
    return changed
