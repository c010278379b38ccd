"""Random sessions of customers and agents through the real use cases, checked after every step.

Every refusal must be the one the state deserves (see chat_model). After each
step: seq is dense, one "joined" message per assignment, nobody over capacity,
nothing after a close, every stored message published exactly once, and the
store agrees with the model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chatcore.agents import Role
from chatcore.conversation import Status
from chatcore.errors import (
    AdminOnly,
    CannotDeactivate,
    ConversationClosed,
    DomainError,
    FaqNotFound,
    NoAgentAvailable,
    Unauthorized,
)
from chatcore.events import (
    AgentAssigned,
    AgentPresenceChanged,
    ChatClosed,
    ConversationUpdated,
    DomainEvent,
    MessageCreated,
)
from chatcore.messages import SenderType
from chatcore.presence import PresenceStatus
from chatcore.usecases import accounts, admin, customer, inbox, presence
from support.chat_model import AgentModel, ChatModel, is_free, loads
from support.fakes import SAMPLE_FAQS, make_context
from support.usecase_people import escalate, first_admin, hire, say, start_chat

CAPACITY = 2
GRACE = 60
BODIES = [SAMPLE_FAQS[0].question, "has my order shipped?", "qwertyuiop zxcv", "thanks!"]
SLUGS = [entry.slug for entry in SAMPLE_FAQS] + ["no-such-faq"]
T = TypeVar("T")

MOST_AGENTS = 6
key_modes = st.sampled_from(["none", "new", "retry"])
# Online more often than not: assignments need someone online.
presences = st.sampled_from(
    [PresenceStatus.ONLINE, PresenceStatus.ONLINE, PresenceStatus.AWAY, PresenceStatus.OFFLINE]
)


INSTANCES = ("east", "west")  # two server processes sharing the storage
instances = st.sampled_from(INSTANCES)


class ChatMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ctx, self.fakes = make_context(capacity=CAPACITY, grace_seconds=GRACE)
        for instance in INSTANCES:
            assert not presence.instance_alive(self.ctx, instance)  # new: not known before
        ada = first_admin(self.ctx, "Ada")
        self.agents = [
            AgentModel(ada, admin=True),
            AgentModel(hire(self.ctx, ada, "Bea", role=Role.ADMIN), admin=True),
            AgentModel(hire(self.ctx, ada, "Cal"), admin=False),
            AgentModel(hire(self.ctx, ada, "Dee"), admin=False),
        ]
        for agent in self.agents[2:]:  # two agents start online: assignments come early
            accounts.set_presence(self.ctx, agent.staff.actor, PresenceStatus.ONLINE)
            agent.choose(PresenceStatus.ONLINE)
        self.chats: dict[str, ChatModel] = {}
        self.keys = 0
        self.assignments: Counter[str] = Counter()  # conversation id → AgentAssigned events
        self.announced: Counter[str] = Counter()  # message id → MessageCreated events
        self.taken = len(self.fakes.publisher.batches)  # batches already accounted for

    # -- plumbing ---------------------------------------------------------------

    def take(self) -> list[tuple[DomainEvent, ...]]:
        """The batches published since the last call, counted for the invariants."""
        batches = self.fakes.publisher.batches[self.taken :]
        self.taken = len(self.fakes.publisher.batches)
        for happened in (e for batch in batches for e in batch):
            if isinstance(happened, AgentAssigned):
                self.assignments[happened.conversation_id] += 1
            if isinstance(happened, MessageCreated):
                self.announced[happened.message.id] += 1
        return batches

    def attempt(self, refusal: type[DomainError] | None, action: Callable[[], T]) -> T | None:
        """Run ``action``; when the model expects a refusal, it must be exactly that one."""
        if refusal is None:
            return action()
        with pytest.raises(DomainError) as refused:
            action()
        assert type(refused.value) is refusal, (refused.value, refusal)
        event(f"refused: {refusal.__name__}")
        assert self.take() == []  # a refusal publishes nothing
        return None

    def pick_chat(self, data: st.DataObject) -> ChatModel:
        return self.chats[data.draw(st.sampled_from(sorted(self.chats)), label="chat")]

    def pick_agent(
        self, data: st.DataObject, label: str = "agent", among: list[AgentModel] | None = None
    ) -> AgentModel:
        pool = {a.staff.agent.display_name: a for a in (self.agents if among is None else among)}
        return pool[data.draw(st.sampled_from(sorted(pool)), label=label)]  # drawn by name

    def new_key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    def key_for(self, data: st.DataObject, mode: str, used: list[str]) -> str | None:
        if mode == "retry" and used:
            return data.draw(st.sampled_from(sorted(used)), label="retry")
        return None if mode == "none" else self.new_key()

    def free_ids(self, held: dict[str, int], *, leaving: str | None = None) -> set[str]:
        return {
            a.id
            for a in self.agents
            if a.id != leaving and is_free(a, held.get(a.id, 0), capacity=CAPACITY)
        }

    def stored(self, model: ChatModel) -> tuple[Status, str | None]:
        conversation = self.fakes.tables.conversations[model.id]
        return conversation.status, conversation.assigned_agent_id

    def presence_event(self, agent: AgentModel, before: PresenceStatus) -> None:
        expected = []
        if agent.effective is not before:
            expected = [
                AgentPresenceChanged(agent.id, agent.staff.agent.display_name, agent.effective)
            ]
        assert [e for batch in self.take() for e in batch] == expected

    # -- customers --------------------------------------------------------------

    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        sessions = sorted({model.chat.session_id for model in self.chats.values()})
        session = data.draw(st.sampled_from([None, *sessions]), label="session")
        chat = start_chat(self.ctx, session_id=session)
        assert session in (None, chat.session_id)
        [batch] = self.take()
        assert [type(e) for e in batch] == [ConversationUpdated, MessageCreated]
        self.chats[chat.conversation_id] = ChatModel(chat)

    @precondition(lambda self: self.chats)
    @rule(data=st.data(), body=st.sampled_from(BODIES), mode=key_modes)
    def customer_writes(self, data: st.DataObject, body: str, mode: str) -> None:
        model = self.pick_chat(data)
        key = self.key_for(data, mode, list(model.customer_keys))
        if key in model.customer_keys:
            retried = say(self.ctx, model.chat, body, client_message_id=key)
            assert (retried.created, retried.message.id) == (False, model.customer_keys[key])
            assert self.take() == []
            return
        refusal = ConversationClosed if model.status is Status.CLOSED else None
        posted = self.attempt(
            refusal, lambda: say(self.ctx, model.chat, body, client_message_id=key)
        )
        if posted is None:
            return
        assert posted.created
        assert len(posted.replies) == (1 if model.status is Status.AUTOMATED else 0)
        if key is not None:
            model.customer_keys[key] = posted.message.id

    @precondition(lambda self: self.chats)
    @rule(data=st.data(), slug=st.sampled_from(SLUGS))
    def quick_reply(self, data: st.DataObject, slug: str) -> None:
        model = self.pick_chat(data)
        refusal = FaqNotFound if slug == "no-such-faq" else model.quick_reply_refusal()
        posted = self.attempt(
            refusal,
            lambda: customer.quick_reply(
                self.ctx, model.id, slug, session_id=model.chat.session_id
            ),
        )
        if posted is not None:
            assert [reply.faq_slug for reply in posted.replies] == [slug]

    @precondition(lambda self: self.chats)
    @rule(data=st.data())
    def customer_escalates(self, data: st.DataObject) -> None:
        model = self.pick_chat(data)
        if model.status is not Status.AUTOMATED:
            refusal = ConversationClosed if model.status is Status.CLOSED else None
            holder = self.attempt(refusal, lambda: escalate(self.ctx, model.chat))
            assert refusal or holder == model.holder  # the no-op answers the same assignment
            assert self.take() == []
            return
        free = self.free_ids(loads(self.chats))
        holder = self.attempt(
            None if free else NoAgentAvailable, lambda: escalate(self.ctx, model.chat)
        )
        if holder is None:
            return
        assert holder in free
        event("escalated")
        [batch] = self.take()
        [assigned] = [e for e in batch if isinstance(e, AgentAssigned)]
        assert (assigned.conversation_id, assigned.agent.id) == (model.id, holder)
        assert assigned.agent.presence is PresenceStatus.ONLINE
        model.status, model.holder = Status.AGENT, holder

    # -- agents -----------------------------------------------------------------

    def signed_in(self, agent: AgentModel) -> bool:
        """Authenticate as the agent would; a deactivated one must be refused."""
        if agent.active:
            assert accounts.authenticate(self.ctx, agent.staff.token) == agent.staff.actor
        else:
            self.attempt(Unauthorized, lambda: accounts.authenticate(self.ctx, agent.staff.token))
        return agent.active

    @precondition(lambda self: self.chats)
    @rule(data=st.data(), mode=key_modes)
    def agent_writes(self, data: st.DataObject, mode: str) -> None:
        agent, model = self.pick_agent(data), self.pick_chat(data)
        if not self.signed_in(agent):
            return
        used = [key for (writer, key) in model.agent_keys if writer == agent.id]
        key = self.key_for(data, mode, used)
        if key is not None and (agent.id, key) in model.agent_keys:
            retried = inbox.post_agent_message(
                self.ctx, agent.staff.actor, model.id, body="again", client_message_id=key
            )
            assert (retried.created, retried.message.id) == (False, model.agent_keys[agent.id, key])
            assert self.take() == []
            return
        posted = self.attempt(
            model.agent_refusal(agent, closing=False),
            lambda: inbox.post_agent_message(
                self.ctx, agent.staff.actor, model.id, body="Hello", client_message_id=key
            ),
        )
        if posted is not None and key is not None:
            assert posted.message.sender.id == agent.id
            model.agent_keys[agent.id, key] = posted.message.id

    @precondition(lambda self: self.chats)
    @rule(data=st.data())
    def agent_closes(self, data: st.DataObject) -> None:
        agent, model = self.pick_agent(data), self.pick_chat(data)
        if not self.signed_in(agent):
            return
        view = self.attempt(
            model.agent_refusal(agent, closing=True),
            lambda: inbox.close_conversation(self.ctx, agent.staff.actor, model.id),
        )
        if view is None:
            return
        [batch] = self.take()
        assert sum(isinstance(e, ChatClosed) for e in batch) == 1
        assert view.conversation.assigned_agent_id == model.holder
        model.status, model.closed_seq = Status.CLOSED, view.conversation.last_seq
        event("closed")

    @rule(data=st.data(), choice=presences)
    def choose_presence(self, data: st.DataObject, choice: PresenceStatus) -> None:
        agent = self.pick_agent(data)
        if not self.signed_in(agent):
            return
        before = agent.effective
        accounts.set_presence(self.ctx, agent.staff.actor, choice)
        agent.choose(choice)
        self.presence_event(agent, before)

    @rule(data=st.data(), instance=instances)
    def connect(self, data: st.DataObject, instance: str) -> None:
        agent = self.pick_agent(data)
        if not self.signed_in(agent):  # sockets authenticate first
            return
        before = agent.effective
        presence.agent_connected(self.ctx, agent.id, instance_id=instance)
        agent.connect(instance)
        self.presence_event(agent, before)

    @precondition(lambda self: any(a.connections for a in self.agents))
    @rule(data=st.data())
    def connection_drops(self, data: st.DataObject) -> None:
        connected = [a for a in self.agents if a.connections]
        agent = self.pick_agent(data, "connected agent", connected)
        instance = data.draw(st.sampled_from(sorted(+agent.held)), label="instance")
        before = agent.effective
        assert presence.agent_disconnected(self.ctx, agent.id, instance_id=instance) is not None
        agent.disconnect(instance, self.fakes.clock.peek())
        self.presence_event(agent, before)

    @rule(data=st.data(), instance=instances)
    def stray_disconnect(self, data: st.DataObject, instance: str) -> None:
        idle = [a for a in self.agents if a.held[instance] == 0]
        if not idle:
            return
        agent = self.pick_agent(data, "agent without a connection there", idle)
        assert presence.agent_disconnected(self.ctx, agent.id, instance_id=instance) is None
        assert self.take() == []

    @rule(crashed=instances)
    def instance_crashes(self, crashed: str) -> None:
        """The other instance keeps beating; the crashed one is found silent, then restarts."""
        now = self.fakes.clock.advance(1)
        for instance in INSTANCES:
            if instance != crashed:
                assert presence.instance_alive(self.ctx, instance)
        held = sorted(a.id for a in self.agents if a.held[crashed])
        let_go = presence.forget_silent_instances(self.ctx, silent_for=timedelta(milliseconds=500))
        assert sorted(a.id for a in let_go) == held
        for agent in self.agents:
            agent.instance_gone(crashed, now)
        assert self.take() == []  # into grace: nothing anyone sees changes yet
        assert not presence.instance_alive(self.ctx, crashed)  # back, as a stranger
        event("instance crashed")

    @rule(seconds=st.sampled_from([1, 30, 59, 60, 61, 120]))
    def time_passes(self, seconds: int) -> None:
        now = self.fakes.clock.advance(seconds)
        grace = self.ctx.policy.presence_grace
        lapsing = [a for a in self.agents if a.lapses_at(now, grace)]
        befores = {a.id: a.effective for a in lapsing}
        lapsed = presence.expire_presence(self.ctx)
        assert sorted(a.id for a in lapsed) == sorted(a.id for a in lapsing)
        for agent in lapsing:
            agent.lapsed = True
            event("lapsed")
        events = [e for batch in self.take() for e in batch]
        assert events == [
            AgentPresenceChanged(a.id, a.staff.agent.display_name, PresenceStatus.OFFLINE)
            for a in sorted(lapsing, key=lambda a: [m.id for m in self.agents].index(a.id))
            if befores[a.id] is not PresenceStatus.OFFLINE
        ]

    # -- admin ------------------------------------------------------------------

    @precondition(lambda self: len(self.agents) < MOST_AGENTS)
    @rule(data=st.data())
    def hire_agent(self, data: st.DataObject) -> None:
        boss = self.pick_agent(data, "boss")
        name = f"Agent{len(self.agents)}"
        refusal: type[DomainError] | None = None if boss.admin else AdminOnly
        if not self.signed_in(boss):
            refusal = Unauthorized
        staff = self.attempt(refusal, lambda: hire(self.ctx, boss.staff, name))
        if staff is not None:
            self.agents.append(AgentModel(staff, admin=False))

    @rule(data=st.data())
    def deactivate(self, data: st.DataObject) -> None:
        self.deactivation(self.pick_agent(data, "by"), self.pick_agent(data, "whom"))

    def holders(self) -> list[AgentModel]:
        held = loads(self.chats)
        return [a for a in self.agents if a.active and held.get(a.id)]

    @precondition(lambda self: self.holders())
    @rule(data=st.data())
    def deactivate_a_holder(self, data: st.DataObject) -> None:
        """The interesting case, drawn on purpose: the leaving agent has chats to hand over."""
        leaving = self.pick_agent(data, "holder", self.holders())
        admins = [a for a in self.agents if a.active and a.admin and a is not leaving]
        if admins:
            self.deactivation(self.pick_agent(data, "admin", admins), leaving)

    def deactivation(self, actor: AgentModel, leaving: AgentModel) -> None:
        if not self.signed_in(actor):
            return
        active_admins = sum(a.active and a.admin for a in self.agents)
        refusal: type[DomainError] | None = None
        if not actor.admin:
            refusal = AdminOnly
        elif actor is leaving or (leaving.active and leaving.admin and active_admins <= 1):
            refusal = CannotDeactivate
        done = self.attempt(
            refusal, lambda: admin.deactivate_agent(self.ctx, actor.staff.actor, leaving.id)
        )
        if done is None:
            return
        assert not done.active
        if not leaving.active:
            assert self.take() == []  # already out: nothing happens again
            return
        leaving.active = False
        self.check_hand_over(leaving)

    def check_hand_over(self, leaving: AgentModel) -> None:
        """Each chat went to someone free at that moment, or back to the bot when nobody was."""
        [batch] = self.take()
        held = loads(self.chats)
        moved = [
            m for m in self.chats.values() if m.status is Status.AGENT and m.holder == leaving.id
        ]
        for happened in batch:
            if isinstance(happened, AgentAssigned):
                assert happened.agent.id in self.free_ids(held, leaving=leaving.id)
                assert happened.agent.presence is PresenceStatus.ONLINE
                held[happened.agent.id] = held.get(happened.agent.id, 0) + 1
            elif (
                isinstance(happened, ConversationUpdated)
                and happened.view.conversation.status is Status.AUTOMATED
            ):
                assert not self.free_ids(held, leaving=leaving.id)
        for model in moved:
            model.status, model.holder = self.stored(model)
            event("handed over" if model.holder else "given back to the bot")
            assert model.holder != leaving.id
            assert (model.status is Status.AGENT) == (model.holder is not None)

    # -- invariants -------------------------------------------------------------

    @invariant()
    def store_agrees_with_the_rules(self) -> None:
        self.take()
        tables = self.fakes.tables
        for conversation in tables.conversations.values():
            messages = tables.messages_of(conversation.id)
            assert [m.seq for m in messages] == list(range(1, conversation.last_seq + 1))
            joined = [
                m
                for m in messages
                if m.sender.type is SenderType.SYSTEM
                and m.body.endswith(" joined the conversation")
            ]
            assert len(joined) == self.assignments[conversation.id]
        assert all(load <= CAPACITY for load in tables.loads().values())
        assert (
            Counter(tables.messages.keys()) == self.announced
        )  # each stored message announced once

    @invariant()
    def store_agrees_with_the_model(self) -> None:
        tables = self.fakes.tables
        assert set(tables.conversations) == set(self.chats)
        for model in self.chats.values():
            assert self.stored(model) == (model.status, model.holder)
            if model.closed_seq is not None:
                assert tables.conversations[model.id].last_seq == model.closed_seq
        for agent in self.agents:
            stored = tables.agents[agent.id]
            assert (stored.active, stored.shown_presence) == (agent.active, agent.effective)
            assert stored.presence.connections == agent.connections
            held = {i: n for (i, agent_id), n in tables.held.items() if agent_id == agent.id}
            assert held == +agent.held
        assert any(a.active and a.is_admin for a in tables.agents.values())


ChatMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestChatSessions = ChatMachine.TestCase
