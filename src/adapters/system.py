"""The system's clock and dice: the real implementations of Clock and IdGenerator."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

# 32 random bytes: 256 bits, twice what the contract asks of a customer session.
SECRET_BYTES = 32


class SystemClock:
    """Aware UTC now, truncated to milliseconds: what the wire shows is exactly what is stored."""

    def now(self) -> datetime:
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)


class RandomIds:
    def new_id(self) -> str:
        return str(uuid.uuid4())

    def new_secret(self) -> str:
        return secrets.token_urlsafe(SECRET_BYTES)
