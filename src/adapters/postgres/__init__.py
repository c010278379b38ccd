"""PostgreSQL storage for chatcore, on psycopg 3 and its connection pool.

``PostgresDatabase(url)`` connects, migrates the database forward and hands out
units of work: ``database.uow`` is a ``chatcore.ports.UnitOfWorkFactory``. Several
chatcore instances may share one database: row locks keep escalation atomic
across them (the rule is in unit_of_work.py).
"""

from adapters.postgres.database import PostgresDatabase
from adapters.postgres.migrations import SCHEMA_VERSION, SchemaTooNew
from adapters.postgres.unit_of_work import PostgresUnitOfWork

__all__ = ["SCHEMA_VERSION", "PostgresDatabase", "PostgresUnitOfWork", "SchemaTooNew"]
