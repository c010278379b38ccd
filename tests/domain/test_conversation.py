"""The conversation state machine: the table decides, refusals name the state, seq is dense."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcore import conversation as rules
from chatcore.conversation import (
    REFUSALS,
    TRANSITIONS,
    Conversation,
    Customer,
    Status,
    Trigger,
)
from chatcore.errors import ConversationClosed, DomainError, NotYourConversation
from chatcore.messages import Sender, SenderType

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
AGENTS = ("a1", "a2", "a3")


def make_conversation(
    status: Status = Status.AUTOMATED, holder: str | None = None, *, last_seq: int = 1
) -> Conversation:
    conversation = Conversation(
        id="c1",
        session_id="s1",
        customer=Customer("Guest 0001"),
        created_at=T0,
        updated_at=T0,
        last_seq=last_seq,
    )
    conversation.status = status
    if status is not Status.AUTOMATED:
        conversation.assigned_agent_id = holder or "a1"
        conversation.escalated_at = T0
    if status is Status.CLOSED:
        conversation.closed_at = T0
        conversation.closed_by_id = conversation.assigned_agent_id
    return conversation


# Each trigger as the domain function that fires it, acting as the conversation's own holder.
FIRE: dict[Trigger, Callable[[Conversation], object]] = {
    Trigger.CUSTOMER_WRITES: rules.customer_writes,
    Trigger.QUICK_REPLY: rules.quick_reply,
    Trigger.ESCALATE: lambda c: rules.escalate(c, agent_id="a1", now=LATER),
    Trigger.AGENT_WRITES: lambda c: rules.agent_writes(c, agent_id=c.assigned_agent_id or "a1"),
    Trigger.CLOSE: lambda c: rules.close(
        c, by_agent_id=c.assigned_agent_id or "a1", by_admin=False, now=LATER
    ),
    Trigger.REASSIGN: lambda c: rules.reassign(c, agent_id="a2", now=LATER),
    Trigger.HAND_BACK: lambda c: rules.hand_back(c, now=LATER),
}

statuses = st.sampled_from(Status)
triggers = st.sampled_from(Trigger)


def test_every_state_has_a_row_and_a_refusal() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert set(REFUSALS) == set(Status)
    assert set(FIRE) == set(Trigger)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("trigger", list(Trigger))
def test_the_table_gives_a_target_or_the_state_refuses(status: Status, trigger: Trigger) -> None:
    conversation = make_conversation(status)
    target = TRANSITIONS[status].get(trigger)
    if target is None:
        with pytest.raises(REFUSALS[status]) as refused:
            conversation.refuse_unless(trigger)
        assert type(refused.value) is REFUSALS[status]
    else:
        assert conversation.refuse_unless(trigger) is target


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("trigger", list(Trigger))
def test_each_event_function_obeys_the_table(status: Status, trigger: Trigger) -> None:
    conversation = make_conversation(status)
    before = replace(conversation)
    target = TRANSITIONS[status].get(trigger)
    if target is None:
        with pytest.raises(REFUSALS[status]):
            FIRE[trigger](conversation)
        assert conversation == before  # a refusal changes nothing
    else:
        FIRE[trigger](conversation)
        assert conversation.status is target


@given(trigger=triggers, holder=st.sampled_from(AGENTS), admin=st.booleans())
def test_nothing_is_accepted_after_closed(trigger: Trigger, holder: str, admin: bool) -> None:
    conversation = make_conversation(Status.CLOSED, holder)
    before = replace(conversation)
    with pytest.raises(DomainError) as refused:
        FIRE[trigger](conversation)
    assert isinstance(refused.value, ConversationClosed)
    with pytest.raises(ConversationClosed):
        rules.close(conversation, by_agent_id=holder, by_admin=admin, now=LATER)
    assert conversation == before


@given(first=st.sampled_from(AGENTS), second=st.sampled_from(AGENTS))
def test_escalating_twice_is_a_no_op(first: str, second: str) -> None:
    conversation = make_conversation()
    assert rules.escalation_needed(conversation)
    assert rules.escalate(conversation, agent_id=first, now=T0) is True
    after_first = replace(conversation)
    assert not rules.escalation_needed(conversation)
    assert rules.escalate(conversation, agent_id=second, now=LATER) is False
    assert conversation == after_first
    assert conversation.assigned_agent_id == first
    assert conversation.escalated_at == T0


senders = st.builds(
    Sender,
    st.sampled_from(SenderType),
    st.one_of(st.none(), st.sampled_from(AGENTS)),
    st.text(min_size=1, max_size=5),
)


@settings(max_examples=60)
@given(
    start=st.integers(min_value=0, max_value=1000),
    posts=st.lists(st.tuples(senders, st.text(max_size=10)), max_size=30),
)
def test_append_numbers_messages_densely(start: int, posts: list[tuple[Sender, str]]) -> None:
    conversation = make_conversation(last_seq=start)
    seqs = []
    for index, (sender, body) in enumerate(posts):
        now = T0 + timedelta(seconds=index)
        message = conversation.append(sender, body, message_id=f"m{index}", now=now)
        assert (message.sender, message.body, message.created_at) == (sender, body, now)
        assert message.conversation_id == conversation.id
        assert conversation.updated_at == now
        seqs.append(message.seq)
    assert seqs == list(range(start + 1, start + len(posts) + 1))
    assert conversation.last_seq == start + len(posts)


holders = st.one_of(st.none(), st.sampled_from(AGENTS))


@given(status=statuses, holder=holders, writer=st.sampled_from(AGENTS))
def test_only_the_holder_writes(status: Status, holder: str | None, writer: str) -> None:
    conversation = make_conversation(status)
    conversation.assigned_agent_id = holder
    before = replace(conversation)
    if holder not in (None, writer):
        with pytest.raises(NotYourConversation):
            rules.agent_writes(conversation, agent_id=writer)
    elif status is not Status.AGENT:
        with pytest.raises(REFUSALS[status]):
            rules.agent_writes(conversation, agent_id=writer)
    else:
        rules.agent_writes(conversation, agent_id=writer)
    assert conversation == before


def test_an_admin_may_not_write_in_another_agents_chat() -> None:
    # agent_writes takes no admin flag at all: admins close, they do not speak for others.
    conversation = make_conversation(Status.AGENT, "a1")
    with pytest.raises(NotYourConversation):
        rules.agent_writes(conversation, agent_id="admin")


@given(status=statuses, holder=holders, closer=st.sampled_from(AGENTS), admin=st.booleans())
def test_the_holder_or_an_admin_closes(
    status: Status, holder: str | None, closer: str, admin: bool
) -> None:
    conversation = make_conversation(status)
    conversation.assigned_agent_id = holder
    before = replace(conversation)
    if holder not in (None, closer) and not admin:
        with pytest.raises(NotYourConversation):
            rules.close(conversation, by_agent_id=closer, by_admin=admin, now=LATER)
        assert conversation == before
    elif status is not Status.AGENT:
        with pytest.raises(REFUSALS[status]):
            rules.close(conversation, by_agent_id=closer, by_admin=admin, now=LATER)
        assert conversation == before
    else:
        rules.close(conversation, by_agent_id=closer, by_admin=admin, now=LATER)
        assert conversation.status is Status.CLOSED
        assert (conversation.closed_at, conversation.updated_at) == (LATER, LATER)
        assert conversation.closed_by_id == closer
        assert conversation.assigned_agent_id == holder  # who held it stays on record


def test_hand_back_clears_the_holder_and_reassign_moves_it() -> None:
    conversation = make_conversation(Status.AGENT, "a1")
    rules.reassign(conversation, agent_id="a2", now=LATER)
    assert (conversation.status, conversation.assigned_agent_id) == (Status.AGENT, "a2")
    rules.hand_back(conversation, now=LATER)
    assert conversation.status is Status.AUTOMATED
    assert conversation.assigned_agent_id is None
    assert conversation.escalated_at is None
