"""Rows ↔ entities for the SQL stores: the one place that knows how a domain object looks
in a table. SQLite and PostgreSQL share the tables' shape and differ only in how a
timestamp is stored, so each adapter builds a RowMap with its own codec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from chatcore.agents import Agent, Role
from chatcore.bot import FaqEntry
from chatcore.conversation import Conversation, ConversationView, Customer, Status
from chatcore.messages import Message, Sender, SenderType
from chatcore.presence import Link, Presence, PresenceStatus

Row = Mapping[str, Any]

# The listing query joins the holder and the last message under these prefixes.
AGENT_PREFIX = "a__"
MESSAGE_PREFIX = "m__"

CONVERSATION_COLUMNS = (
    "id",
    "session_id",
    "customer_name",
    "customer_email",
    "status",
    "assigned_agent_id",
    "created_at",
    "updated_at",
    "escalated_at",
    "closed_at",
    "closed_by_id",
    "last_seq",
)
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "seq",
    "sender_type",
    "sender_id",
    "sender_name",
    "body",
    "faq_slug",
    "client_message_id",
    "reply_to",
    "created_at",
)
AGENT_COLUMNS = (
    "id",
    "email",
    "display_name",
    "role",
    "password_hash",
    "created_at",
    "active",
    "chosen_presence",
    "link",
    "connections",
    "disconnected_at",
    "last_assigned_at",
)


class RowMap:
    """The mapping with one store's timestamp codec: ``to_db`` takes an aware datetime,
    ``from_db`` gives one back (aware UTC)."""

    def __init__(
        self, *, to_db: Callable[[datetime], Any], from_db: Callable[[Any], datetime]
    ) -> None:
        self._to_db = to_db
        self._from_db = from_db

    def _optional_to_db(self, moment: datetime | None) -> Any:
        return None if moment is None else self._to_db(moment)

    def _optional_from_db(self, value: Any) -> datetime | None:
        return None if value is None else self._from_db(value)

    def conversation_row(self, conversation: Conversation) -> dict[str, Any]:
        return {
            "id": conversation.id,
            "session_id": conversation.session_id,
            "customer_name": conversation.customer.display_name,
            "customer_email": conversation.customer.email,
            "status": conversation.status.value,
            "assigned_agent_id": conversation.assigned_agent_id,
            "created_at": self._to_db(conversation.created_at),
            "updated_at": self._to_db(conversation.updated_at),
            "escalated_at": self._optional_to_db(conversation.escalated_at),
            "closed_at": self._optional_to_db(conversation.closed_at),
            "closed_by_id": conversation.closed_by_id,
            "last_seq": conversation.last_seq,
        }

    def conversation_from_row(self, row: Row) -> Conversation:
        return Conversation(
            id=row["id"],
            session_id=row["session_id"],
            customer=Customer(row["customer_name"], row["customer_email"]),
            created_at=self._from_db(row["created_at"]),
            updated_at=self._from_db(row["updated_at"]),
            status=Status(row["status"]),
            assigned_agent_id=row["assigned_agent_id"],
            escalated_at=self._optional_from_db(row["escalated_at"]),
            closed_at=self._optional_from_db(row["closed_at"]),
            closed_by_id=row["closed_by_id"],
            last_seq=row["last_seq"],
        )

    def message_row(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.id,
            "conversation_id": message.conversation_id,
            "seq": message.seq,
            "sender_type": message.sender.type.value,
            "sender_id": message.sender.id,
            "sender_name": message.sender.display_name,
            "body": message.body,
            "faq_slug": message.faq_slug,
            "client_message_id": message.client_message_id,
            "reply_to": message.reply_to,
            "created_at": self._to_db(message.created_at),
        }

    def message_from_row(self, row: Row, *, prefix: str = "") -> Message:
        """``prefix`` reads the columns of a joined row, such as ``m__id``."""
        return Message(
            id=row[prefix + "id"],
            conversation_id=row[prefix + "conversation_id"],
            seq=row[prefix + "seq"],
            sender=Sender(
                SenderType(row[prefix + "sender_type"]),
                row[prefix + "sender_id"],
                row[prefix + "sender_name"],
            ),
            body=row[prefix + "body"],
            created_at=self._from_db(row[prefix + "created_at"]),
            faq_slug=row[prefix + "faq_slug"],
            client_message_id=row[prefix + "client_message_id"],
            reply_to=row[prefix + "reply_to"],
        )

    def agent_row(self, agent: Agent) -> dict[str, Any]:
        return {
            "id": agent.id,
            "email": agent.email,
            "display_name": agent.display_name,
            "role": agent.role.value,
            "password_hash": agent.password_hash,
            "created_at": self._to_db(agent.created_at),
            "active": agent.active,
            "chosen_presence": agent.presence.chosen.value,
            "link": agent.presence.link.value,
            "connections": agent.presence.connections,
            "disconnected_at": self._optional_to_db(agent.presence.disconnected_at),
            "last_assigned_at": self._optional_to_db(agent.last_assigned_at),
        }

    def agent_from_row(self, row: Row, *, prefix: str = "") -> Agent:
        """``prefix`` reads the columns of a joined row, such as ``a__id``."""
        return Agent(
            id=row[prefix + "id"],
            email=row[prefix + "email"],
            display_name=row[prefix + "display_name"],
            role=Role(row[prefix + "role"]),
            password_hash=row[prefix + "password_hash"],
            created_at=self._from_db(row[prefix + "created_at"]),
            active=bool(row[prefix + "active"]),
            presence=Presence(
                chosen=PresenceStatus(row[prefix + "chosen_presence"]),
                link=Link(row[prefix + "link"]),
                connections=row[prefix + "connections"],
                disconnected_at=self._optional_from_db(row[prefix + "disconnected_at"]),
            ),
            last_assigned_at=self._optional_from_db(row[prefix + "last_assigned_at"]),
        )

    def view_from_row(self, row: Row) -> ConversationView:
        """A row of the listing query: the conversation, its holder, its last message."""
        holder = self.agent_from_row(row, prefix=AGENT_PREFIX) if row[AGENT_PREFIX + "id"] else None
        last = (
            self.message_from_row(row, prefix=MESSAGE_PREFIX)
            if row[MESSAGE_PREFIX + "id"]
            else None
        )
        return ConversationView(
            self.conversation_from_row(row),
            holder.summary if holder is not None else None,
            last,
        )


def faq_row(entry: FaqEntry) -> dict[str, Any]:
    return {
        "slug": entry.slug,
        "question": entry.question,
        "answer": entry.answer,
        "position": entry.position,
    }


def faq_from_row(row: Row) -> FaqEntry:
    return FaqEntry(row["slug"], row["question"], row["answer"], row["position"])


def prefixed(table: str, columns: tuple[str, ...], prefix: str) -> str:
    """A select list that names each column of a joined table with ``prefix``."""
    return ", ".join(f'{table}."{column}" AS "{prefix}{column}"' for column in columns)
