"""Agent accounts: register, log in and out, change password, authenticate, presence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import chatcore.presence
from chatcore.agents import (
    Agent,
    Role,
    check_fields,
    display_name_problem,
    email_problem,
    normalize_email,
    password_problem,
)
from chatcore.errors import AdminOnly, EmailTaken, Unauthorized
from chatcore.events import AgentAccessRevoked, AgentPresenceChanged
from chatcore.presence import PresenceStatus
from chatcore.usecases._base import Context, Tx, require_agent, transaction


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated agent, as far as one request is concerned."""

    agent_id: str
    token_id: str
    # When the token dies on its own: live connections are closed then.
    expires_at: datetime | None = None
    # As it was when the token was checked (roles never change). Use cases re-read the
    # agent; this is for what only routes events, like a socket's subscriptions.
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    expires_in: int
    agent: Agent


def authenticate(ctx: Context, access_token: str | None) -> Actor:
    """Who holds this token: genuine, unexpired, not revoked, its agent active. Else 401."""
    if not access_token:
        raise Unauthorized()
    now = ctx.clock.now()
    claims = ctx.tokens.read(access_token, now=now)
    with transaction(ctx, write=False) as tx:
        if not tx.uow.tokens.is_live(claims.token_id, agent_id=claims.agent_id, now=now):
            raise Unauthorized()
        agent = require_agent(tx.uow, claims.agent_id)
    return Actor(claims.agent_id, claims.token_id, claims.expires_at, is_admin=agent.is_admin)


def setup_needed(ctx: Context) -> bool:
    """True until the first agent exists: the first register needs no token."""
    with transaction(ctx, write=False) as tx:
        return tx.uow.agents.count() == 0


def registrar(ctx: Context, access_token: str | None) -> Actor | None:
    """Who may register agents: None only while no agent exists yet; 401 otherwise."""
    if access_token:
        return authenticate(ctx, access_token)
    if setup_needed(ctx):
        return None
    raise Unauthorized()


def register_agent(
    ctx: Context,
    actor: Actor | None,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.AGENT,
) -> Agent:
    """The first agent ever needs no actor and becomes admin; later only admins register."""
    if actor is None and not setup_needed(ctx):
        raise Unauthorized()
    check_fields(
        email=email_problem(email),
        password=password_problem(password),
        display_name=display_name_problem(display_name),
    )
    with transaction(ctx, write=False) as tx:
        _role_for_newcomer(tx, actor, role)
    password_hash = ctx.hasher.hash(password)  # slow on purpose: outside any write
    with transaction(ctx) as tx:
        role = _role_for_newcomer(tx, actor, role)
        return _add_agent(ctx, tx, email, password_hash, display_name.strip(), role)


def create_agent_as_operator(
    ctx: Context,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.AGENT,
) -> Agent:
    """An agent made from the server's own shell (the CLI): trusted, so no actor.

    Validated like register_agent. The first agent ever is an admin whatever was
    asked: someone must be able to administer the server over HTTP.
    """
    check_fields(
        email=email_problem(email),
        password=password_problem(password),
        display_name=display_name_problem(display_name),
    )
    password_hash = ctx.hasher.hash(password)  # slow on purpose: outside any write
    with transaction(ctx) as tx:
        if tx.uow.agents.count() == 0:
            role = Role.ADMIN
        return _add_agent(ctx, tx, email, password_hash, display_name.strip(), role)


def _role_for_newcomer(tx: Tx, actor: Actor | None, role: Role) -> Role:
    if tx.uow.agents.count() == 0:
        return Role.ADMIN
    if actor is None:
        raise Unauthorized()
    if not require_agent(tx.uow, actor.agent_id).is_admin:
        raise AdminOnly()
    return role


def _add_agent(
    ctx: Context, tx: Tx, email: str, password_hash: str, display_name: str, role: Role
) -> Agent:
    email = normalize_email(email)
    if tx.uow.agents.by_email(email) is not None:
        raise EmailTaken()
    agent = Agent(
        id=ctx.ids.new_id(),
        email=email,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        created_at=ctx.clock.now(),
    )
    tx.uow.agents.add(agent)
    return agent


def login(ctx: Context, *, email: str, password: str) -> Session:
    """Wrong email, wrong password and a deactivated account get the same 401."""
    with transaction(ctx, write=False) as tx:
        agent = tx.uow.agents.by_email(normalize_email(email))
    if not ctx.hasher.verify(password, agent.password_hash if agent else None):
        raise Unauthorized("The email or password is wrong.")
    if agent is None or not agent.active:
        raise Unauthorized("The email or password is wrong.")
    now = ctx.clock.now()
    issued = ctx.tokens.issue(agent.id, token_id=ctx.ids.new_id(), now=now)
    with transaction(ctx) as tx:
        tx.uow.tokens.purge_expired(now=now)
        tx.uow.tokens.add(issued.token_id, agent_id=agent.id, expires_at=issued.expires_at)
    expires_in = int((issued.expires_at - now).total_seconds())
    return Session(issued.token, expires_in, agent)


def logout(ctx: Context, actor: Actor) -> None:
    with transaction(ctx) as tx:
        tx.uow.tokens.revoke(actor.token_id)
        tx.record(AgentAccessRevoked(actor.agent_id, token_ids=(actor.token_id,)))


def change_password(
    ctx: Context, actor: Actor, *, current_password: str, new_password: str
) -> None:
    """Every other token of the agent dies; the one calling stays valid."""
    check_fields(new_password=password_problem(new_password))
    with transaction(ctx, write=False) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
    if not ctx.hasher.verify(current_password, agent.password_hash):
        raise Unauthorized("The current password is wrong.")
    new_hash = ctx.hasher.hash(new_password)
    with transaction(ctx) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        agent.password_hash = new_hash
        tx.uow.agents.save(agent)
        tx.uow.tokens.revoke_all(agent.id, keep=actor.token_id)
        tx.record(AgentAccessRevoked(agent.id, everything_but=actor.token_id))


def me(ctx: Context, actor: Actor) -> Agent:
    with transaction(ctx, write=False) as tx:
        return require_agent(tx.uow, actor.agent_id)


def set_presence(ctx: Context, actor: Actor, presence: PresenceStatus) -> Agent:
    with transaction(ctx) as tx:
        agent = require_agent(tx.uow, actor.agent_id)
        before = agent.shown_presence
        agent.presence = chatcore.presence.choose(agent.presence, presence)
        tx.uow.agents.save(agent)
        if agent.shown_presence is not before:
            tx.record(AgentPresenceChanged(agent.id, agent.display_name, agent.shown_presence))
        return agent
