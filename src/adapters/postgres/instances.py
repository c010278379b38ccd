"""Server instances and the agents' connections each holds: presence across instances.

Lock order (unit_of_work.py): these rows first, then the agents' sweep. Each
method that changes counts ends by taking the sweep itself, because the use case
goes on to change that agent's presence: read after the sweep, the agent row
cannot change under it, so two sockets of one agent connecting at once through
two instances queue instead of one of them being refused as retryable.
"""

from __future__ import annotations

from datetime import datetime

from adapters.postgres.rows import to_db
from adapters.postgres.sql import Txn


class PostgresInstanceRepository:
    def __init__(self, txn: Txn) -> None:
        self._txn = txn

    def beat(self, instance_id: str, *, now: datetime) -> bool:
        # xmax = 0 only for a freshly inserted row: it was not known before.
        row = self._txn.one(
            "INSERT INTO server_instances (id, seen_at) VALUES (%s, %s)"
            " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at"
            " RETURNING (xmax <> 0) AS known",
            [instance_id, to_db(now)],
        )
        return bool(row and row["known"])

    def is_known(self, instance_id: str) -> bool:
        # KEY SHARE: held to the end of the unit, it keeps forget()'s DELETE waiting,
        # and forget() then finds this unit's count to let go of.
        lock = " FOR KEY SHARE" if self._txn.write else ""
        row = self._txn.one("SELECT 1 FROM server_instances WHERE id = %s" + lock, [instance_id])
        return row is not None

    def count_connection(self, instance_id: str, agent_id: str) -> None:
        self._txn.run(
            "INSERT INTO agent_connections (instance_id, agent_id, connections)"
            " VALUES (%s, %s, 1) ON CONFLICT (instance_id, agent_id)"
            " DO UPDATE SET connections = agent_connections.connections + 1",
            [instance_id, agent_id],
        )
        self._txn.lock_agents()

    def uncount_connection(self, instance_id: str, agent_id: str) -> bool:
        row = self._txn.one(
            "UPDATE agent_connections SET connections = connections - 1"
            " WHERE instance_id = %s AND agent_id = %s RETURNING connections",
            [instance_id, agent_id],
        )
        if row is None:
            return False
        if row["connections"] == 0:
            self._txn.run(
                "DELETE FROM agent_connections WHERE instance_id = %s AND agent_id = %s",
                [instance_id, agent_id],
            )
        self._txn.lock_agents()
        return True

    def silent_since(self, moment: datetime) -> list[str]:
        rows = self._txn.rows(
            "SELECT id FROM server_instances WHERE seen_at <= %s ORDER BY id", [to_db(moment)]
        )
        return [row["id"] for row in rows]

    def forget(self, instance_id: str) -> dict[str, int]:
        # Whoever deletes the instance row first forgets it; anyone else finds nothing.
        if not self._txn.run("DELETE FROM server_instances WHERE id = %s", [instance_id]):
            return {}
        rows = self._txn.rows(
            "DELETE FROM agent_connections WHERE instance_id = %s RETURNING agent_id, connections",
            [instance_id],
        )
        self._txn.lock_agents()
        return {row["agent_id"]: row["connections"] for row in rows}
