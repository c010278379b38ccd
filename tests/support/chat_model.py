"""A model of what the chat server should have done, written apart from the domain's code.

The stateful test drives the real use cases and holds their results against
this model: who is free, which refusal each state deserves, what presence shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chatcore.conversation import Status
from chatcore.errors import (
    ConversationClosed,
    DomainError,
    NotWithAgent,
    NotWithBot,
    NotYourConversation,
)
from chatcore.presence import PresenceStatus
from support.usecase_people import Chat, Staff


@dataclass
class AgentModel:
    staff: Staff
    admin: bool
    active: bool = True
    chosen: PresenceStatus = PresenceStatus.OFFLINE
    held: Counter[str] = field(default_factory=Counter)  # connections by server instance
    gone_since: datetime | None = None  # the last connection left and none came back
    lapsed: bool = False

    @property
    def id(self) -> str:
        return self.staff.id

    @property
    def effective(self) -> PresenceStatus:
        return PresenceStatus.OFFLINE if self.lapsed else self.chosen

    def choose(self, status: PresenceStatus) -> None:
        self.chosen = status
        if self.lapsed:  # choosing by hand after a lapse: the choice stands again
            self.lapsed, self.gone_since = False, None

    @property
    def connections(self) -> int:
        return sum(self.held.values())

    def connect(self, instance: str) -> None:
        self.held[instance] += 1
        self.gone_since, self.lapsed = None, False

    def disconnect(self, instance: str, now: datetime) -> None:
        self.held[instance] -= 1
        if self.connections == 0:
            self.gone_since = now

    def instance_gone(self, instance: str, now: datetime) -> None:
        if self.held.pop(instance, 0) and self.connections == 0:
            self.gone_since = now

    def lapses_at(self, now: datetime, grace: timedelta) -> bool:
        return self.gone_since is not None and not self.lapsed and now >= self.gone_since + grace


@dataclass
class ChatModel:
    chat: Chat
    status: Status = Status.AUTOMATED
    holder: str | None = None
    closed_seq: int | None = None  # the closing message: nothing may come after it
    customer_keys: dict[str, str] = field(default_factory=dict)  # client id → message id
    agent_keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (agent, client id)

    @property
    def id(self) -> str:
        return self.chat.conversation_id

    def agent_refusal(self, agent: AgentModel, *, closing: bool) -> type[DomainError] | None:
        """What an agent writing (or closing) here deserves; None when it is allowed."""
        if self.holder not in (None, agent.id) and not (closing and agent.admin):
            return NotYourConversation
        return {
            Status.AUTOMATED: NotWithAgent,
            Status.AGENT: None,
            Status.CLOSED: ConversationClosed,
        }[self.status]

    def quick_reply_refusal(self) -> type[DomainError] | None:
        return {
            Status.AUTOMATED: None,
            Status.AGENT: NotWithBot,
            Status.CLOSED: ConversationClosed,
        }[self.status]


def loads(chats: dict[str, ChatModel]) -> dict[str, int]:
    held: dict[str, int] = {}
    for model in chats.values():
        if model.status is Status.AGENT and model.holder is not None:
            held[model.holder] = held.get(model.holder, 0) + 1
    return held


def is_free(agent: AgentModel, load: int, *, capacity: int) -> bool:
    room = capacity == 0 or load < capacity
    return agent.active and agent.effective is PresenceStatus.ONLINE and room
