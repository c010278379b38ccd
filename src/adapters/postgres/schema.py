"""The schema's versions as statements: the SQLite adapter's tables, indexes and rules.

Every identifier and slug is ``text COLLATE "C"``: byte order, as SQLite compares
text, so ids break ties and slugs sort the same on both stores (a locale collation
would, for one, skip the hyphens of a UUID).
"""

from __future__ import annotations

ID = 'text COLLATE "C"'

V1_STATEMENTS: tuple[str, ...] = (
    f"""CREATE TABLE customer_sessions (
        id {ID} PRIMARY KEY,
        created_at timestamptz NOT NULL)""",
    f"""CREATE TABLE agents (
        id {ID} PRIMARY KEY,
        email {ID} NOT NULL,
        display_name text NOT NULL,
        role text NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        active boolean NOT NULL DEFAULT true,
        chosen_presence text NOT NULL DEFAULT 'offline',
        link text NOT NULL DEFAULT 'idle',
        connections integer NOT NULL DEFAULT 0,
        disconnected_at timestamptz,
        last_assigned_at timestamptz)""",
    "CREATE UNIQUE INDEX agents_by_email ON agents (email)",
    f"""CREATE TABLE conversations (
        id {ID} PRIMARY KEY,
        session_id {ID} NOT NULL REFERENCES customer_sessions (id),
        customer_name text NOT NULL,
        customer_email text,
        status text NOT NULL,
        assigned_agent_id {ID} REFERENCES agents (id),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        escalated_at timestamptz,
        closed_at timestamptz,
        closed_by_id {ID} REFERENCES agents (id),
        last_seq integer NOT NULL DEFAULT 0)""",
    # One index per slice of the agents' listing, each ending in (updated_at, id) so a
    # page is read in order straight from the index (see listing.py).
    "CREATE INDEX conversations_by_status ON conversations (status, updated_at, id)",
    "CREATE INDEX conversations_by_holder "
    "ON conversations (assigned_agent_id, status, updated_at, id)",
    "CREATE INDEX conversations_by_closer ON conversations (closed_by_id, updated_at, id)",
    f"""CREATE TABLE messages (
        id {ID} PRIMARY KEY,
        conversation_id {ID} NOT NULL REFERENCES conversations (id),
        seq integer NOT NULL,
        sender_type text NOT NULL,
        sender_id {ID},
        sender_name text NOT NULL,
        body text NOT NULL,
        faq_slug {ID},
        client_message_id text,
        reply_to {ID} REFERENCES messages (id),
        created_at timestamptz NOT NULL)""",
    # The database itself guarantees seq is never reused, whatever a caller does.
    "CREATE UNIQUE INDEX messages_by_seq ON messages (conversation_id, seq)",
    "CREATE INDEX messages_by_reply_to ON messages (reply_to)",
    # A client's idempotency key is unique per sender; customers have no sender id,
    # hence the coalesce (NULLs never collide in a plain unique index).
    "CREATE UNIQUE INDEX messages_by_client_id ON messages "
    "(conversation_id, sender_type, coalesce(sender_id, ''), client_message_id) "
    "WHERE client_message_id IS NOT NULL",
    f"""CREATE TABLE faqs (
        slug {ID} PRIMARY KEY,
        question text NOT NULL,
        answer text NOT NULL,
        position integer NOT NULL DEFAULT 0)""",
    "CREATE INDEX faqs_in_display_order ON faqs (position, slug)",
    f"""CREATE TABLE access_tokens (
        id {ID} PRIMARY KEY,
        agent_id {ID} NOT NULL REFERENCES agents (id),
        expires_at timestamptz NOT NULL)""",
    "CREATE INDEX access_tokens_by_agent ON access_tokens (agent_id)",
    "CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at)",
)

# Version 2: which server instance holds each agent connection (SQLite's migration 2).
# Counts kept before are put under an instance last heard from in 1970: the next
# instance to start lets them go, as every instance once did at start-up.
UPGRADED_INSTANCE = "before-schema-2"
V2_STATEMENTS: tuple[str, ...] = (
    f"""CREATE TABLE server_instances (
        id {ID} PRIMARY KEY,
        seen_at timestamptz NOT NULL)""",
    f"""CREATE TABLE agent_connections (
        instance_id {ID} NOT NULL,
        agent_id {ID} NOT NULL REFERENCES agents (id),
        connections integer NOT NULL CHECK (connections >= 0),
        PRIMARY KEY (instance_id, agent_id))""",
    f"""INSERT INTO server_instances (id, seen_at)
        SELECT '{UPGRADED_INSTANCE}', '1970-01-01T00:00:00Z'
        WHERE EXISTS (SELECT 1 FROM agents WHERE connections > 0)""",
    f"""INSERT INTO agent_connections (instance_id, agent_id, connections)
        SELECT '{UPGRADED_INSTANCE}', id, connections FROM agents WHERE connections > 0""",
)
