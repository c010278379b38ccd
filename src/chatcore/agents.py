"""Agents: the humans who answer, and the rules for their accounts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chatcore.common_passwords import is_common
from chatcore.errors import InvalidInput
from chatcore.presence import Presence, PresenceStatus

PASSWORD_MIN_CHARS = 10
PASSWORD_MAX_CHARS = 128
DISPLAY_NAME_MAX_CHARS = 80
EMAIL_MAX_CHARS = 254
# Deliberately plain: one @, a dot in the domain, no spaces. Delivery is the real test.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_EMAIL = re.compile(EMAIL_PATTERN)
# Control characters, and unpaired surrogates (no keyboard types them; UTF-8 cannot hold them).
_UNTYPABLE = frozenset({"Cc", "Cs"})


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


@dataclass(slots=True)
class Agent:
    id: str
    email: str
    display_name: str
    role: Role
    password_hash: str
    created_at: datetime
    active: bool = True
    presence: Presence = field(default_factory=Presence)
    last_assigned_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def shown_presence(self) -> PresenceStatus:
        return self.presence.effective

    @property
    def summary(self) -> AgentSummary:
        return AgentSummary(self.id, self.display_name, self.shown_presence)


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """What a customer may know of an agent: never the email."""

    id: str
    display_name: str
    presence: PresenceStatus


def normalize_email(email: str) -> str:
    return email.strip().lower()


def display_name_problem(name: str) -> str | None:
    if not name or name.isspace():
        return "must not be empty"
    if len(name) > DISPLAY_NAME_MAX_CHARS:
        return f"must be at most {DISPLAY_NAME_MAX_CHARS} characters"
    return None


def email_problem(email: str) -> str | None:
    if len(email) > EMAIL_MAX_CHARS or not _EMAIL.match(email):
        return "must be a valid email address"
    return None


def password_problem(password: str) -> str | None:
    if not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        return f"must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"
    if password.isspace():
        return "must not be only whitespace"
    if any(unicodedata.category(char) in _UNTYPABLE for char in password):
        return "must not contain control characters"
    if is_common(password):
        return "is too common: it is on a list of the most used passwords"
    return None


def check_fields(**problems: str | None) -> None:
    """Raise one InvalidInput naming every field that has a problem."""
    fields = {name: problem for name, problem in problems.items() if problem is not None}
    if fields:
        raise InvalidInput(fields)
