"""The conversation state machine: the table decides, refusals name the state, seq is dense."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chatcore
from chatcore.conversation import (
    REFUSALS,
    TRANSITIONS,
    Conversation,
    Customer,
    Status,
    Trigger,
    agent_writes,
    close,
    customer_writes,
    ensure_escalation_allowed,
    escalate,
    hand_back,
    has_agent,
    next_status,
    quick_reply,
    reassign,
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
    Trigger.CUSTOMER_WRITES: customer_writes,
    Trigger.QUICK_REPLY: quick_reply,
    Trigger.ESCALATE: lambda c: escalate(c, agent_id="a1", now=LATER),
    Trigger.AGENT_WRITES: lambda c: agent_writes(c, agent_id=c.assigned_agent_id or "a1"),
    Trigger.CLOSE: lambda c: close(
        c, by_agent_id=c.assigned_agent_id or "a1", by_admin=False, now=LATER
    ),
    Trigger.REASSIGN: lambda c: reassign(c, agent_id="a2", now=LATER),
    Trigger.HAND_BACK: lambda c: hand_back(c, now=LATER),
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
            next_status(conversation, trigger)
        assert type(refused.value) is REFUSALS[status]
    else:
        assert next_status(conversation, trigger) is target


# What each event may change besides the status; every other field stays as it was.
OWNS: dict[Trigger, frozenset[str]] = {
    Trigger.CUSTOMER_WRITES: frozenset(),
    Trigger.QUICK_REPLY: frozenset(),
    Trigger.ESCALATE: frozenset({"assigned_agent_id", "escalated_at", "updated_at"}),
    Trigger.AGENT_WRITES: frozenset(),
    Trigger.CLOSE: frozenset({"closed_at", "closed_by_id", "updated_at"}),
    Trigger.REASSIGN: frozenset({"assigned_agent_id", "updated_at"}),
    Trigger.HAND_BACK: frozenset({"assigned_agent_id", "escalated_at", "updated_at"}),
}
PAIRS = [(status, trigger) for status in Status for trigger in Trigger]


@pytest.mark.parametrize(("status", "trigger"), PAIRS)
@settings(max_examples=20)
@given(holder=st.sampled_from(AGENTS), last_seq=st.integers(min_value=0, max_value=10_000))
def test_every_event_lands_exactly_where_the_table_says(
    status: Status, trigger: Trigger, holder: str, last_seq: int
) -> None:
    conversation = make_conversation(status, holder, last_seq=last_seq)
    before = replace(conversation)
    target = TRANSITIONS[status].get(trigger)
    if target is None:
        with pytest.raises(DomainError) as refused:
            FIRE[trigger](conversation)
        assert type(refused.value) is REFUSALS[status]
        assert conversation == before  # a refusal changes nothing
        return
    FIRE[trigger](conversation)
    assert conversation.status is target
    changed = {
        f.name
        for f in fields(Conversation)
        if getattr(conversation, f.name) != getattr(before, f.name)
    }
    assert changed <= OWNS[trigger] | {"status"}


def status_assignments(source: str) -> list[str]:
    """The functions (or "<module>") in ``source`` that assign some object's ``status``."""
    found = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                for target in targets:
                    for part in ast.walk(target):
                        if isinstance(part, ast.Attribute) and part.attr == "status":
                            found.append(where)
            visit(child, where)

    visit(ast.parse(source), "<module>")
    return found


def test_only_the_table_sets_a_conversations_status() -> None:
    src = Path(chatcore.__file__).parent
    setters = {
        f"{path.relative_to(src).as_posix()}:{where}"
        for path in sorted(src.rglob("*.py"))
        for where in status_assignments(path.read_text())
    }
    assert setters == {"conversation.py:_fire"}


def test_status_assignments_sees_every_way_to_set_it() -> None:
    source = """
conversation.status = Status.CLOSED
def escalate(c):
    c.status: Status = Status.AGENT
    def inner():
        a, (b.status, d) = 1, (2, 3)
"""
    assert status_assignments(source) == ["<module>", "escalate", "inner"]


@given(trigger=triggers, holder=st.sampled_from(AGENTS), admin=st.booleans())
def test_nothing_is_accepted_after_closed(trigger: Trigger, holder: str, admin: bool) -> None:
    conversation = make_conversation(Status.CLOSED, holder)
    before = replace(conversation)
    with pytest.raises(DomainError) as refused:
        FIRE[trigger](conversation)
    assert isinstance(refused.value, ConversationClosed)
    with pytest.raises(ConversationClosed):
        close(conversation, by_agent_id=holder, by_admin=admin, now=LATER)
    assert conversation == before


@given(first=st.sampled_from(AGENTS), second=st.sampled_from(AGENTS))
def test_escalating_twice_is_a_no_op(first: str, second: str) -> None:
    conversation = make_conversation()
    ensure_escalation_allowed(conversation)
    assert not has_agent(conversation)
    assert escalate(conversation, agent_id=first, now=T0) is True
    after_first = replace(conversation)
    ensure_escalation_allowed(conversation)
    assert has_agent(conversation)
    assert escalate(conversation, agent_id=second, now=LATER) is False
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
            agent_writes(conversation, agent_id=writer)
    elif status is not Status.AGENT:
        with pytest.raises(REFUSALS[status]):
            agent_writes(conversation, agent_id=writer)
    else:
        agent_writes(conversation, agent_id=writer)
    assert conversation == before


def test_an_admin_may_not_write_in_another_agents_chat() -> None:
    # agent_writes takes no admin flag at all: admins close, they do not speak for others.
    conversation = make_conversation(Status.AGENT, "a1")
    with pytest.raises(NotYourConversation):
        agent_writes(conversation, agent_id="admin")


@given(status=statuses, holder=holders, closer=st.sampled_from(AGENTS), admin=st.booleans())
def test_the_holder_or_an_admin_closes(
    status: Status, holder: str | None, closer: str, admin: bool
) -> None:
    conversation = make_conversation(status)
    conversation.assigned_agent_id = holder
    before = replace(conversation)
    if holder not in (None, closer) and not admin:
        with pytest.raises(NotYourConversation):
            close(conversation, by_agent_id=closer, by_admin=admin, now=LATER)
        assert conversation == before
    elif status is not Status.AGENT:
        with pytest.raises(REFUSALS[status]):
            close(conversation, by_agent_id=closer, by_admin=admin, now=LATER)
        assert conversation == before
    else:
        close(conversation, by_agent_id=closer, by_admin=admin, now=LATER)
        assert conversation.status is Status.CLOSED
        assert (conversation.closed_at, conversation.updated_at) == (LATER, LATER)
        assert conversation.closed_by_id == closer
        assert conversation.assigned_agent_id == holder  # who held it stays on record


def test_hand_back_clears_the_holder_and_reassign_moves_it() -> None:
    conversation = make_conversation(Status.AGENT, "a1")
    reassign(conversation, agent_id="a2", now=LATER)
    assert (conversation.status, conversation.assigned_agent_id) == (Status.AGENT, "a2")
    hand_back(conversation, now=LATER)
    assert conversation.status is Status.AUTOMATED
    assert conversation.assigned_agent_id is None
    assert conversation.escalated_at is None
