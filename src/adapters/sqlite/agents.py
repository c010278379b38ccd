"""Agents, and the candidates the assignment policy chooses from."""

from __future__ import annotations

import sqlite_utils

from adapters.sqlite.rows import agent_from_row, agent_row
from adapters.sqlite.tables import Rows, insert_row, select, update_row
from chatcore.agents import Agent
from chatcore.conversation import Status
from chatcore.escalation import Candidate
from chatcore.presence import Link

# The load of each agent is one seek in conversations_by_holder (covering index).
_CANDIDATES = (
    "SELECT agents.*, ("
    "  SELECT count(*) FROM conversations"
    "  WHERE conversations.assigned_agent_id = agents.id AND conversations.status = ?"
    ") AS load "
    "FROM agents WHERE agents.active = 1 ORDER BY agents.id"
)


class SqliteAgentRepository:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self._db = db
        self._table = Rows(db, "agents")

    def add(self, agent: Agent) -> None:
        insert_row(self._db, "agents", agent_row(agent))

    def get(self, agent_id: str) -> Agent | None:
        return self._one("id = ?", agent_id)

    def by_email(self, email: str) -> Agent | None:
        return self._one("email = ?", email)

    def save(self, agent: Agent) -> None:
        update_row(self._db, "agents", agent_row(agent))

    def all(self) -> list[Agent]:
        return [agent_from_row(row) for row in self._table.where(order_by="created_at, id")]

    def with_link(self, link: Link) -> list[Agent]:
        rows = self._table.where("link = ?", [link.value], order_by="created_at, id")
        return [agent_from_row(row) for row in rows]

    def count(self) -> int:
        return self._table.count()

    def candidates(self) -> list[Candidate]:
        candidates = []
        for row in select(self._db, _CANDIDATES, [Status.AGENT.value]):
            agent = agent_from_row(row)
            candidates.append(
                Candidate(
                    agent_id=agent.id,
                    presence=agent.shown_presence,
                    active=agent.active,
                    load=row["load"],
                    last_assigned_at=agent.last_assigned_at,
                )
            )
        return candidates

    def _one(self, where: str, value: str) -> Agent | None:
        rows = list(self._table.where(where, [value]))
        return agent_from_row(rows[0]) if rows else None
