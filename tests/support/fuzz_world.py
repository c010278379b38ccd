"""A small populated server for the fuzzers: accounts, conversations in every state, FAQs.

Random ids and random session headers only ever reach the 404 and 403 branches. So
each generated request is steered, some of the time, at objects that exist: the
conversation id becomes one of ours (AUTOMATED, AGENT, CLOSED, another agent's), the
session header the owner's or a stranger's, the slug a real one, and the bearer token
the admin's or the agent's. The choice is a pure function of what was generated
(``steer``), so a failing case replays and shrinks like any other.

Requests that use something up (logout, a password change, closing, escalating,
deleting a FAQ) get a fresh token or a sacrificial object, and ``after`` replaces
what they consumed, so the world stays the same shape for the whole run.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from support.rest import (
    PASSWORD,
    Staff,
    bearer,
    customer_headers,
    expect,
    first_admin,
    go_online,
    hire,
    new_token,
    start_conversation,
)

SESSION_HEADER = "X-Customer-Session-Id"
DEFAULT_SLUGS = ("track-order", "reset-password")  # a fresh database has these
SCRATCH_SLUG = "fuzz-scratch"  # the only slug DELETE is steered at; made again after
ADMIN_OPERATIONS = {
    "list_faqs",
    "create_faq",
    "update_faq",
    "delete_faq",
    "list_agents",
    "deactivate_agent",
    "register",
}
HOLDER_OPERATIONS = {"post_agent_message", "close_conversation"}
# Extra headers schemathesis makes up can be any name: these would break the HTTP message
# itself (`Content-Length: ,y`), which uvicorn's parser refuses with a plain-text 400
# before the application sees a byte. That is the HTTP server's answer, not the API's
# (docs/api.md): the fuzzer leaves them out and fuzzes the API.
HTTP_FRAMING = {"content-length", "transfer-encoding", "host", "connection", "upgrade", "te"}
# Stands in a generated Authorization header for the name of an identity (see identity).
IDENTITY = "identity:"
# A NUL put into one generated string: PostgreSQL refuses it even in a comparison,
# so this share of the cases asks both stores for a 400 or a 404, never a 500.
NUL_SHARE = 0.15
# No Authorization header at all, however the operation is secured: a 401 must follow.
NO_TOKEN_SHARE = 0.1


def operation_id(case: Any) -> str:
    return str(case.operation.definition.raw["operationId"])


def rng_of(case: Any, salt: str) -> random.Random:
    """A generator seeded by what schemathesis generated: the same case, the same choices."""
    body = case.body if isinstance(case.body, dict | list | str | bytes | int | float) else None
    headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
    generated = (salt, case.operation.label, case.path_parameters, headers, case.query, body)
    return random.Random(zlib.crc32(repr(generated).encode("utf-8", "surrogatepass")))


def identity(case: Any) -> str | None:
    """Whom a case runs as (None: no Authorization header), by operation and by chance."""
    if not case.operation.definition.raw.get("security"):
        return None
    rng = rng_of(case, "identity")
    if rng.random() < NO_TOKEN_SHARE:
        return None
    op = operation_id(case)
    if op == "logout":
        return "fresh-agent"
    if op == "change_password":
        return "fresh-pw"
    if op in ADMIN_OPERATIONS:
        return "admin" if rng.random() < 0.8 else "agent"
    if op in HOLDER_OPERATIONS:
        return "agent" if rng.random() < 0.85 else "admin"
    return "agent" if rng.random() < 0.6 else "admin"


@dataclass
class World:
    client: httpx.Client
    admin: Staff
    agent: Staff  # holds `held`; the usual token for agent operations
    other: Staff  # offline; holds `foreign`
    victim_id: str  # the agent deactivate is steered at (never `agent` or `other`)
    pw_email: str  # the account change_password runs as, with its current password
    pw_password: str
    owner: str  # the session that owns every conversation below
    stranger: str  # another customer's session
    automated: str = ""
    held: str = ""
    closed: str = ""
    foreign: str = ""
    cursor: str | None = None
    slugs: list[str] = field(default_factory=lambda: list(DEFAULT_SLUGS))
    # Every status each operation answered, and how often: proof the steering works.
    seen: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    # -- setting up ---------------------------------------------------------------

    @classmethod
    def create(cls, client: httpx.Client) -> World:
        admin = first_admin(client)
        agent = hire(client, admin, email="agent@example.com")
        other = hire(client, admin, email="other@example.com")
        victim = hire(client, admin, email="victim@example.com")
        pw = hire(client, admin, email="password@example.com")
        owner, first = start_conversation(client)
        stranger, _ = start_conversation(client)
        world = cls(client, admin, agent, other, victim.id, pw.email, PASSWORD, owner, stranger)
        world.automated = first["id"]
        world.foreign = world._escalated_to(other)
        world.closed = world._escalated_to(agent)
        expect(
            client.post(f"/api/v1/agent/conversations/{world.closed}/close", headers=agent.headers),
            200,
        )
        world.held = world._escalated_to(agent)
        world._faq(SCRATCH_SLUG)
        return world

    def _start(self) -> str:
        _, conversation = start_conversation(self.client, session_id=self.owner)
        return str(conversation["id"])

    def _escalated_to(self, holder: Staff) -> str:
        """A new conversation of the owner's, escalated while only ``holder`` is online."""
        for account in (self.admin, self.agent, self.other):
            presence = "online" if account is holder else "offline"
            expect(
                self.client.post(
                    "/api/v1/agent/presence", json={"presence": presence}, headers=account.headers
                ),
                200,
            )
        conversation_id = self._start()
        escalated = expect(
            self.client.post(
                f"/api/v1/customer/conversations/{conversation_id}/escalate",
                headers=customer_headers(self.owner),
            ),
            200,
        )
        assert escalated["assigned_agent"]["id"] == holder.id, escalated
        if holder is not self.agent:
            go_online(self.client, self.agent)
        return conversation_id

    def _faq(self, slug: str) -> None:
        body = {"slug": slug, "question": "A question to delete", "answer": "An answer."}
        response = self.client.post("/api/v1/admin/faqs", json=body, headers=self.admin.headers)
        assert response.status_code in (201, 409), response.text

    # -- steering generated requests ----------------------------------------------

    def authorize(self, case: Any) -> None:
        """Swap the identity ``identity`` named for its real bearer token."""
        header = case.headers.get("Authorization", "")
        if not header.startswith(f"Bearer {IDENTITY}"):
            return  # none, or one schemathesis made up
        name = header.removeprefix(f"Bearer {IDENTITY}")
        if name == "fresh-agent":  # logout kills its token: a new one each time
            token = new_token(self.client, self.agent.email, self.agent.password)
        elif name == "fresh-pw":  # a password change kills the account's other tokens
            token = new_token(self.client, self.pw_email, self.pw_password)
        else:
            token = {"admin": self.admin.token, "agent": self.agent.token}[name]
        headers = case.headers.copy()
        headers["Authorization"] = f"Bearer {token}"
        case.headers = headers

    def steer(self, case: Any) -> None:
        """Point some generated values at real objects; leave the rest as generated.

        Containers are replaced, never changed in place: schemathesis then sees the
        edit and judges the case again (a negative case steered valid is positive).
        """
        op = operation_id(case)
        rng = rng_of(case, "steer")
        framing = [name for name in case.headers if name.lower() in HTTP_FRAMING]
        if framing:
            headers = case.headers.copy()
            for name in framing:
                del headers[name]
            case.headers = headers
        params = dict(case.path_parameters)
        if "id" in params and rng.random() < 0.8:
            if op == "deactivate_agent":
                params["id"] = rng.choice([self.victim_id, self.admin.id])
            else:
                # The bot's twice: quick replies and escalations succeed only there.
                states = [self.automated, self.automated, self.held, self.closed, self.foreign]
                params["id"] = rng.choice(states)
        if "faq_slug" in params and rng.random() < 0.7:
            params["faq_slug"] = rng.choice(self.slugs)
        if "slug" in params and rng.random() < 0.7:
            params["slug"] = SCRATCH_SLUG if op == "delete_faq" else rng.choice(self.slugs)
        if params != case.path_parameters:
            case.path_parameters = params
        if SESSION_HEADER in case.headers and rng.random() < 0.85:
            headers = case.headers.copy()
            headers[SESSION_HEADER] = self.owner if rng.random() < 0.85 else self.stranger
            case.headers = headers
        cursor = self.cursor if rng.random() < 0.5 else None
        if op == "list_conversations" and "cursor" in case.query and cursor:
            case.query = {**case.query, "cursor": cursor}
        if isinstance(case.body, dict):
            if op == "login" and rng.random() < 0.5:
                case.body = self._replaced(
                    case.body, email=self.agent.email, password=self.agent.password
                )
            if op == "change_password" and rng.random() < 0.5:
                case.body = self._replaced(case.body, current_password=self.pw_password)
                if rng.random() < 0.5:  # generated ones mostly hold control characters
                    fresh = f"fuzzed passphrase {rng.randrange(10**9)}"
                    case.body = self._replaced(case.body, new_password=fresh)
        if rng.random() < NUL_SHARE:
            self._with_nul(case, rng)

    @staticmethod
    def _with_nul(case: Any, rng: random.Random) -> None:
        """A NUL in one string the case sends, wherever it goes: path, query or body."""
        # Without its session header, a customer's case checks that the missing header is
        # refused; a NUL in its path would name nothing, a 404 first (the contract's order).
        headless = case.operation.path.startswith("/api/v1/customer/") and (
            SESSION_HEADER not in case.headers
        )
        places = [
            (where, name)
            for where, values in (
                ("path", {} if headless else case.path_parameters),
                ("query", case.query),
                ("body", case.body),
            )
            if isinstance(values, dict)
            for name, value in values.items()
            if isinstance(value, str)
        ]
        if not places:
            return
        where, name = rng.choice(places)
        values = {"path": case.path_parameters, "query": case.query, "body": case.body}[where]
        at = rng.randint(0, len(values[name]))
        changed = {**values, name: values[name][:at] + "\x00" + values[name][at:]}
        if where == "path":
            case.path_parameters = changed
        elif where == "query":
            case.query = changed
        else:
            case.body = changed

    @staticmethod
    def _replaced(body: dict[str, Any], **values: str) -> dict[str, Any]:
        return {**body, **{name: value for name, value in values.items() if name in body}}

    # -- keeping the world the same shape -----------------------------------------

    def after(self, case: Any, response: Any) -> None:
        op = operation_id(case)
        status = response.status_code
        self.seen[op][status] += 1
        conversation = case.path_parameters.get("id")
        if op == "escalate" and status == 200 and conversation == self.automated:
            self.automated = self._start()
        elif op == "close_conversation" and status == 200 and conversation == self.held:
            self.held = self._escalated_to(self.agent)
        elif op == "delete_faq" and status == 204:
            deleted = case.path_parameters.get("slug")
            if deleted == SCRATCH_SLUG:
                self._faq(SCRATCH_SLUG)
            elif deleted in self.slugs:
                self.slugs.remove(deleted)
        elif op == "change_password" and status == 204:
            self.pw_password = str(case.body["new_password"])
        elif op == "list_conversations" and status == 200:
            self.cursor = response.json().get("next_cursor") or self.cursor

    def healthy(self) -> None:
        """The server still answers, and the agent's token still works."""
        expect(self.client.get("/healthz"), 200)
        expect(self.client.get("/readyz"), 200)
        expect(self.client.get("/api/v1/agent/me", headers=bearer(self.agent.token)), 200)
