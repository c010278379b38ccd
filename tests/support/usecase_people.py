"""People and their actions through the real use cases: the domain tests' vocabulary.

The same verbs as support/rest.py (over HTTP) with the same meaning; support/__init__.py
lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatcore.agents import Agent, Role
from chatcore.presence import PresenceStatus
from chatcore.usecases import Actor, Context, accounts, customer

PASSWORD = "correct horse battery"


@dataclass(frozen=True, slots=True)
class Staff:
    agent: Agent
    actor: Actor
    token: str

    @property
    def id(self) -> str:
        return self.agent.id


def email_of(name: str) -> str:
    return f"{name.lower()}@example.com"


def log_in(ctx: Context, name: str, *, password: str = PASSWORD) -> Staff:
    session = accounts.login(ctx, email=email_of(name), password=password)
    actor = accounts.authenticate(ctx, session.access_token)
    return Staff(session.agent, actor, session.access_token)


def first_admin(ctx: Context, name: str = "Ada") -> Staff:
    accounts.register_agent(ctx, None, email=email_of(name), password=PASSWORD, display_name=name)
    return log_in(ctx, name)


def hire(ctx: Context, by: Staff, name: str, *, role: Role = Role.AGENT) -> Staff:
    accounts.register_agent(
        ctx, by.actor, email=email_of(name), password=PASSWORD, display_name=name, role=role
    )
    return log_in(ctx, name)


def set_presence(ctx: Context, staff: Staff, presence: PresenceStatus) -> Staff:
    accounts.set_presence(ctx, staff.actor, presence)
    return staff


def go_online(ctx: Context, staff: Staff) -> Staff:
    return set_presence(ctx, staff, PresenceStatus.ONLINE)


@dataclass(frozen=True, slots=True)
class Chat:
    """A customer's conversation, as the customer knows it."""

    session_id: str
    conversation_id: str


def start_chat(ctx: Context, *, session_id: str | None = None) -> Chat:
    started = customer.start_conversation(ctx, session_id=session_id)
    return Chat(started.session_id, started.view.conversation.id)


def say(
    ctx: Context, chat: Chat, body: str, *, client_message_id: str | None = None
) -> customer.Posted:
    return customer.post_customer_message(
        ctx,
        chat.conversation_id,
        session_id=chat.session_id,
        body=body,
        client_message_id=client_message_id,
    )


def escalate(ctx: Context, chat: Chat) -> str | None:
    """The customer asks for a human: who holds the chat now (None: nobody was free)."""
    view = customer.escalate(ctx, chat.conversation_id, session_id=chat.session_id)
    return view.conversation.assigned_agent_id
