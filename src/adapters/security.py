"""Passwords (bcrypt) and agent access tokens (JWT, HS256): PasswordHasher and TokenService."""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
import jwt

from chatcore.errors import Unauthorized
from chatcore.ports import IssuedToken, TokenClaims

# HS256 wants a key at least as long as its output: 32 bytes (RFC 7518, section 3.2).
MIN_SECRET_BYTES = 32
_ALGORITHMS = ["HS256"]  # fixed: the token never chooses how it is checked
_CLAIMS = ("exp", "iat", "sub", "jti")
# A real-looking password for the dummy hash: verify(…, None) must cost what a miss costs.
_DUMMY_PASSWORD = "chatcore timing equaliser"


def _prehash(password: str) -> bytes:
    """What bcrypt actually sees: base64 of SHA-256 of the password, 44 ASCII bytes.

    bcrypt reads at most 72 bytes (bcrypt 5 refuses longer input, older versions
    silently truncate) and stops at a NUL byte, so two long passwords sharing a
    72-byte prefix would collide. Hashing first keeps all 128 allowed characters
    (up to 512 UTF-8 bytes) significant; base64 keeps NUL bytes out. A plain
    SHA-256 is enough here: bcrypt's salt and cost do the slow, salted part.
    """
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


class BcryptHasher:
    def __init__(self, *, rounds: int = 12) -> None:
        if not 4 <= rounds <= 31:
            raise ValueError("bcrypt rounds must be between 4 and 31")
        self._rounds = rounds
        self._dummy: bytes | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(self._rounds)).decode("ascii")

    def verify(self, password: str, hashed: str | None) -> bool:
        """False for a wrong password, a missing account (same cost) or an unreadable hash."""
        if hashed is None:
            self._checkpw(password, self._dummy_hash())
            return False
        return self._checkpw(password, hashed.encode("ascii", errors="replace"))

    def _checkpw(self, password: str, hashed: bytes) -> bool:
        try:
            return bcrypt.checkpw(_prehash(password), hashed)
        except ValueError:  # not a bcrypt hash at all: a damaged row must not crash a login
            return False

    def _dummy_hash(self) -> bytes:
        # Made on first need, not at start-up: a server that never sees an unknown
        # email never pays for it.
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hash(_DUMMY_PASSWORD).encode("ascii")
            return self._dummy


class JwtTokenService:
    """Signed, self-describing access tokens; revocation lives in storage, keyed by jti."""

    def __init__(self, secret: str, *, ttl: timedelta) -> None:
        if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
        if ttl <= timedelta(0):
            raise ValueError("the token lifetime must be positive")
        self._secret = secret
        self._ttl = ttl

    def issue(self, agent_id: str, *, token_id: str, now: datetime) -> IssuedToken:
        expires_at = now + self._ttl
        claims = {
            "sub": agent_id,
            "jti": token_id,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHMS[0])
        return IssuedToken(token=token, token_id=token_id, expires_at=expires_at)

    def read(self, token: str, *, now: datetime) -> TokenClaims:
        """Expiry is judged against ``now`` as given, never the wall clock: one clock rules."""
        payload = self._decode(token)
        agent_id, token_id = payload["sub"], payload["jti"]
        exp, iat = payload["exp"], payload["iat"]
        if not (isinstance(agent_id, str) and agent_id and isinstance(token_id, str) and token_id):
            raise Unauthorized()
        if not (_is_int(exp) and _is_int(iat)):
            raise Unauthorized()
        try:
            expires_at = datetime.fromtimestamp(exp, UTC)
        except (OverflowError, OSError, ValueError):
            raise Unauthorized() from None
        if now >= expires_at:
            raise Unauthorized()
        return TokenClaims(agent_id=agent_id, token_id=token_id, expires_at=expires_at)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=_ALGORITHMS,
                options={
                    "require": list(_CLAIMS),
                    # Time claims are checked by read() against the caller's clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Unauthorized() from None
        return payload


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
