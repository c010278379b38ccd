"""Server instances and the agents' connections each holds: presence across processes.

In memory there is only ever this process, but a library user's server still
counts its agents' sockets here, and its liveness code still asks who is silent.
"""

from __future__ import annotations

from datetime import datetime

from adapters.memory.access import Access
from adapters.memory.tables import IntegrityError


class MemoryInstanceRepository:
    def __init__(self, access: Access) -> None:
        self._access = access

    def beat(self, instance_id: str, *, now: datetime) -> bool:
        tables, journal = self._access.change()
        known = instance_id in tables.instances
        journal.put(tables.instances, instance_id, now)
        return known

    def is_known(self, instance_id: str) -> bool:
        # Every unit holds the store's one lock: nobody forgets it meanwhile.
        return instance_id in self._access.read().instances

    def count_connection(self, instance_id: str, agent_id: str) -> None:
        tables, journal = self._access.change()
        if agent_id not in tables.agents:
            raise IntegrityError(f"no agent {agent_id}")
        key = (instance_id, agent_id)
        journal.put(tables.held, key, tables.held.get(key, 0) + 1)

    def uncount_connection(self, instance_id: str, agent_id: str) -> bool:
        tables, journal = self._access.change()
        key = (instance_id, agent_id)
        held = tables.held.get(key, 0)
        if held <= 0:
            return False
        if held == 1:
            journal.drop(tables.held, key)
        else:
            journal.put(tables.held, key, held - 1)
        return True

    def silent_since(self, moment: datetime) -> list[str]:
        instances = self._access.read().instances
        return sorted(i for i, seen in instances.items() if seen <= moment)

    def forget(self, instance_id: str) -> dict[str, int]:
        tables, journal = self._access.change()
        mine = [key for key in tables.held if key[0] == instance_id]
        held = {agent_id: tables.held[(i, agent_id)] for i, agent_id in mine}
        for key in mine:
            journal.drop(tables.held, key)
        journal.drop(tables.instances, instance_id)
        return held
