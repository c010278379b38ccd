"""Agents, and the candidates the assignment policy chooses from.

Agent rows are locked only all at once, in id order (the rule in unit_of_work.py):
``candidates()`` and ``save()`` take that sweep in a write unit before anything
else of theirs. The plain reads (``get`` for a view or the acting agent) lock
nothing, so ``save()`` writes only the columns this unit changed and only if the
row still holds what this unit read: a change made by another unit meanwhile is
refused as retryable, never silently overwritten.
"""

from __future__ import annotations

from typing import Any

from adapters.postgres.rows import agent_from_row, agent_row
from adapters.postgres.sql import Txn
from adapters.storable_text import is_storable
from chatcore.agents import Agent
from chatcore.conversation import Status
from chatcore.escalation import Candidate
from chatcore.ports import StorageUnavailable
from chatcore.presence import Link

# Registration checks "is this the first agent?" and "is the email taken?" before it
# inserts; instances registering at once queue on this lock so both checks hold.
REGISTRY_LOCK = 0x63686174616772  # "chatagr"

# A fresh statement after the sweep: under READ COMMITTED it sees every assignment
# committed by the units the sweep waited for (a locking read would keep its old
# snapshot for the count). The load is one seek in conversations_by_holder.
_CANDIDATES = (
    "SELECT agents.*, ("
    "  SELECT count(*) FROM conversations"
    "  WHERE conversations.assigned_agent_id = agents.id AND conversations.status = %s"
    ") AS load "
    "FROM agents WHERE agents.active ORDER BY agents.id"
)


class PostgresAgentRepository:
    def __init__(self, txn: Txn) -> None:
        self._txn = txn

    def add(self, agent: Agent) -> None:
        row = agent_row(agent)
        self._txn.insert("agents", row)
        self._txn.agents_read[agent.id] = row

    def get(self, agent_id: str) -> Agent | None:
        return self._one("id = %s", agent_id)

    def by_email(self, email: str) -> Agent | None:
        self._registry_lock()
        return self._one("email = %s", email)

    def save(self, agent: Agent) -> None:
        row = agent_row(agent)
        before = self._txn.agents_read.get(agent.id)
        self.lock_all()
        if before is None:
            self._txn.update("agents", row)
        else:
            self._save_changes(row, before)
        self._txn.agents_read[agent.id] = row

    def all(self) -> list[Agent]:
        return self._many("SELECT * FROM agents ORDER BY created_at, id")

    def with_link(self, link: Link) -> list[Agent]:
        return self._many(
            "SELECT * FROM agents WHERE link = %s ORDER BY created_at, id", [link.value]
        )

    def count(self) -> int:
        self._registry_lock()
        row = self._txn.one("SELECT count(*) AS n FROM agents")
        return int(row["n"]) if row else 0

    def candidates(self) -> list[Candidate]:
        self.lock_all()
        candidates = []
        for row in self._txn.rows(_CANDIDATES, [Status.AGENT.value]):
            agent = self._remember(row)
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

    def lock_all(self) -> None:
        """The sweep: every agent row, in id order, once per write unit."""
        self._txn.lock_agents()

    def _save_changes(self, row: dict[str, Any], before: dict[str, Any]) -> None:
        changed = [column for column in row if column != "id" and row[column] != before[column]]
        if not changed:
            return
        assignments = ", ".join(f'"{column}" = %(new_{column})s' for column in changed)
        unchanged = " AND ".join(
            f'"{column}" IS NOT DISTINCT FROM %(old_{column})s' for column in changed
        )
        params = {"id": row["id"]}
        params.update({f"new_{column}": row[column] for column in changed})
        params.update({f"old_{column}": before[column] for column in changed})
        sql = f"UPDATE agents SET {assignments} WHERE id = %(id)s AND {unchanged}"
        if self._txn.run(sql, params) == 1:
            return
        if self._txn.one("SELECT 1 FROM agents WHERE id = %s", [row["id"]]) is None:
            raise LookupError(f"no agents row {row['id']!r} to save")
        raise StorageUnavailable("The agent was changed by another request; try again.")

    def _registry_lock(self) -> None:
        if self._txn.write:
            self._txn.run("SELECT pg_advisory_xact_lock(%s)", [REGISTRY_LOCK])

    def _one(self, where: str, value: str) -> Agent | None:
        if not is_storable(value):
            return None  # no row can have it; PostgreSQL would refuse even to compare
        row = self._txn.one(f"SELECT * FROM agents WHERE {where}", [value])
        return self._remember(row) if row else None

    def _many(self, sql: str, params: list[Any] | None = None) -> list[Agent]:
        return [self._remember(row) for row in self._txn.rows(sql, params or [])]

    def _remember(self, row: dict[str, Any]) -> Agent:
        agent = agent_from_row(row)
        self._txn.agents_read[agent.id] = agent_row(agent)
        return agent
