"""Agents, and the candidates the assignment policy chooses from."""

from __future__ import annotations

from copy import copy

from adapters.memory.access import Access
from adapters.memory.tables import IntegrityError, Tables
from chatcore.agents import Agent
from chatcore.escalation import Candidate
from chatcore.presence import Link


class MemoryAgentRepository:
    def __init__(self, access: Access) -> None:
        self._access = access

    def add(self, agent: Agent) -> None:
        tables, journal = self._access.change()
        if agent.id in tables.agents:
            raise IntegrityError(f"agent {agent.id} exists")
        _check_email_free(tables, agent)
        journal.put(tables.agents, agent.id, copy(agent))

    def get(self, agent_id: str) -> Agent | None:
        found = self._access.read().agents.get(agent_id)
        return copy(found) if found else None

    def by_email(self, email: str) -> Agent | None:
        agents = self._access.read().agents.values()
        found = next((a for a in agents if a.email == email), None)
        return copy(found) if found else None

    def save(self, agent: Agent) -> None:
        tables, journal = self._access.change()
        if agent.id not in tables.agents:
            raise LookupError(f"no agents row {agent.id!r} to save")
        _check_email_free(tables, agent)
        journal.put(tables.agents, agent.id, copy(agent))

    def all(self) -> list[Agent]:
        return [copy(a) for a in _oldest_first(self._access.read())]

    def with_link(self, link: Link) -> list[Agent]:
        return [copy(a) for a in _oldest_first(self._access.read()) if a.presence.link is link]

    def count(self) -> int:
        return len(self._access.read().agents)

    def candidates(self) -> list[Candidate]:
        tables = self._access.read()
        loads = tables.loads()
        active = sorted((a for a in tables.agents.values() if a.active), key=lambda a: a.id)
        return [
            Candidate(
                agent_id=a.id,
                presence=a.shown_presence,
                active=a.active,
                load=loads.get(a.id, 0),
                last_assigned_at=a.last_assigned_at,
            )
            for a in active
        ]


def _oldest_first(tables: Tables) -> list[Agent]:
    return sorted(tables.agents.values(), key=lambda a: (a.created_at, a.id))


def _check_email_free(tables: Tables, agent: Agent) -> None:
    if any(a.email == agent.email and a.id != agent.id for a in tables.agents.values()):
        raise IntegrityError(f"email {agent.email} is taken")
