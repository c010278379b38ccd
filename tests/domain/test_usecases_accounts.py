"""Agent accounts on the fakes: register, log in and out, tokens, passwords, presence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatcore.agents import Role
from chatcore.errors import AdminOnly, EmailTaken, InvalidInput, Unauthorized
from chatcore.events import AgentAccessRevoked, AgentPresenceChanged
from chatcore.presence import PresenceStatus
from chatcore.usecases import accounts
from support.fakes import make_context
from support.usecase_people import PASSWORD, email_of, first_admin, hire, log_in


def test_the_first_agent_needs_no_token_and_becomes_admin() -> None:
    ctx, fakes = make_context()
    assert accounts.setup_needed(ctx)
    assert accounts.registrar(ctx, None) is None
    agent = accounts.register_agent(
        ctx, None, email="Ada@Example.COM", password=PASSWORD, display_name=" Ada "
    )
    assert (agent.role, agent.email, agent.display_name) == (Role.ADMIN, "ada@example.com", "Ada")
    assert (agent.active, agent.shown_presence) == (True, PresenceStatus.OFFLINE)
    assert fakes.tables.agents[agent.id].password_hash == "h:" + PASSWORD
    assert not accounts.setup_needed(ctx)


def test_after_the_first_only_an_admin_registers() -> None:
    ctx, _ = make_context()
    ada = first_admin(ctx)
    with pytest.raises(Unauthorized):
        accounts.registrar(ctx, None)
    with pytest.raises(Unauthorized):
        accounts.register_agent(
            ctx, None, email="eve@example.com", password=PASSWORD, display_name="Eve"
        )
    bob = hire(ctx, ada, "Bob")
    assert bob.agent.role is Role.AGENT
    assert accounts.registrar(ctx, bob.token) == bob.actor
    with pytest.raises(AdminOnly):
        hire(ctx, bob, "Eve")
    boss = hire(ctx, ada, "Boss", role=Role.ADMIN)
    assert boss.agent.is_admin


def test_a_taken_email_and_bad_fields_are_refused() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    with pytest.raises(EmailTaken):
        accounts.register_agent(
            ctx, ada.actor, email="ADA@example.com", password=PASSWORD, display_name="Ada 2"
        )
    with pytest.raises(InvalidInput) as refused:
        accounts.register_agent(ctx, ada.actor, email="x", password="short", display_name=" ")
    assert set(refused.value.fields) == {"email", "password", "display_name"}
    assert len(fakes.tables.agents) == 1


def test_a_wrong_email_and_a_wrong_password_get_the_same_answer() -> None:
    ctx, fakes = make_context()
    first_admin(ctx)
    with pytest.raises(Unauthorized) as wrong_password:
        accounts.login(ctx, email=email_of("Ada"), password="not the password")
    with pytest.raises(Unauthorized) as wrong_email:
        accounts.login(ctx, email="nobody@example.com", password=PASSWORD)
    assert wrong_password.value.message == wrong_email.value.message
    assert fakes.hasher.verified[-1] is None  # the unknown account still paid for a verify


def test_login_issues_a_token_that_authenticates_until_it_expires() -> None:
    ctx, fakes = make_context(token_ttl=timedelta(minutes=10))
    first_admin(ctx)
    session = accounts.login(ctx, email=email_of("ada"), password=PASSWORD)
    assert session.expires_in == 600
    actor = accounts.authenticate(ctx, session.access_token)
    assert actor.agent_id == session.agent.id
    assert accounts.me(ctx, actor).email == "ada@example.com"
    fakes.clock.advance(timedelta(minutes=10))
    with pytest.raises(Unauthorized):
        accounts.authenticate(ctx, session.access_token)


@pytest.mark.parametrize("token", [None, "", "garbage", "a|b|c|d", "a|b|99999999999999|x"])
def test_missing_or_forged_tokens_are_refused(token: str | None) -> None:
    ctx, _ = make_context()
    first_admin(ctx)
    with pytest.raises(Unauthorized):
        accounts.authenticate(ctx, token)


def test_logout_kills_only_the_token_it_was_called_with() -> None:
    ctx, fakes = make_context()
    first_admin(ctx)
    laptop, phone = log_in(ctx, "Ada"), log_in(ctx, "Ada")
    accounts.logout(ctx, laptop.actor)
    with pytest.raises(Unauthorized):
        accounts.authenticate(ctx, laptop.token)
    assert accounts.authenticate(ctx, phone.token) == phone.actor
    revoked = fakes.publisher.events[-1]
    assert revoked == AgentAccessRevoked(laptop.id, token_ids=(laptop.actor.token_id,))


def test_changing_the_password_kills_every_other_token() -> None:
    ctx, fakes = make_context()
    first_admin(ctx)
    laptop, phone = log_in(ctx, "Ada"), log_in(ctx, "Ada")
    with pytest.raises(Unauthorized):
        accounts.change_password(
            ctx, laptop.actor, current_password="wrong one!", new_password="brand new secret"
        )
    with pytest.raises(InvalidInput):
        accounts.change_password(ctx, laptop.actor, current_password=PASSWORD, new_password="short")
    accounts.change_password(
        ctx, laptop.actor, current_password=PASSWORD, new_password="brand new secret"
    )
    assert accounts.authenticate(ctx, laptop.token) == laptop.actor
    with pytest.raises(Unauthorized):
        accounts.authenticate(ctx, phone.token)
    assert fakes.publisher.events[-1] == AgentAccessRevoked(
        laptop.id, everything_but=laptop.actor.token_id
    )
    with pytest.raises(Unauthorized):
        log_in(ctx, "Ada")
    assert log_in(ctx, "Ada", password="brand new secret").id == laptop.id


def test_choosing_a_presence_announces_only_changes() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    fakes.publisher.clear()
    agent = accounts.set_presence(ctx, ada.actor, PresenceStatus.ONLINE)
    assert agent.shown_presence is PresenceStatus.ONLINE
    accounts.set_presence(ctx, ada.actor, PresenceStatus.ONLINE)
    accounts.set_presence(ctx, ada.actor, PresenceStatus.AWAY)
    assert fakes.publisher.events == [
        AgentPresenceChanged(ada.id, "Ada", PresenceStatus.ONLINE),
        AgentPresenceChanged(ada.id, "Ada", PresenceStatus.AWAY),
    ]
    assert fakes.tables.agents[ada.id].shown_presence is PresenceStatus.AWAY
