"""What a socket's session may ask of the realtime service, and nothing more.

The session imports this, not the service: the service (service.Realtime) is one
such host by its shape, and hands itself to each session it starts.
"""

from __future__ import annotations

from typing import Protocol

from adapters.realtime.connection import Connection
from adapters.realtime.settings import RealtimeSettings
from chatcore.agents import Agent
from chatcore.conversation import Conversation
from chatcore.usecases import Context


class Registration(Protocol):
    """The registry (registry.Registry) as a session uses it: its own socket's entries."""

    def add_customer(self, connection: Connection) -> None: ...
    def add_agent(self, connection: Connection) -> None: ...
    def learn_holder(self, conversation_id: str, conversation: Conversation) -> None: ...
    def subscribe(self, connection: Connection, conversation_id: str) -> None: ...
    def unsubscribe(self, connection: Connection, conversation_id: str) -> None: ...
    def remove(self, connection: Connection) -> None: ...


class SessionHost(Protocol):
    """The use cases' context, who watches what, typing, and the settings a session reads."""

    @property
    def ctx(self) -> Context: ...
    @property
    def settings(self) -> RealtimeSettings: ...
    @property
    def instance_id(self) -> str: ...
    @property
    def registry(self) -> Registration: ...

    async def listening(self) -> bool:
        """Wait until what the registry was told so far is listened to (with Redis)."""
        ...

    def relay_typing(
        self, connection: Connection, conversation_id: str, *, typist: Agent | None, is_typing: bool
    ) -> None:
        """``typist`` None: the customer of ``connection``."""
        ...

    def end_typing(self, connection: Connection) -> None: ...

    def disconnect_later(self, agent_id: str) -> None: ...
