"""Server settings: defaults, then CHATCORE_* variables, then the command line (which wins)."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "CHATCORE_"
# HS256 keys shorter than its 32-byte output weaken every token (RFC 7518, section 3.2).
SECRET_KEY_MIN_CHARS = 32
MEMORY_DATABASE = ":memory:"


class SettingsError(SystemExit):
    """A setting has a value the server cannot use; the message names where it came from."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    database: str = "chatcore.db"
    redis_url: str | None = None  # set: events cross instances through Redis
    redis_namespace: str = "chatcore"  # keeps deployments sharing one Redis apart
    secret_key: str | None = None  # None: made once and kept in "<database>.secret"
    token_ttl_seconds: int = 43200
    agent_capacity: int = 0  # 0: unlimited
    presence_grace_seconds: int = 60
    allowed_origins: tuple[str, ...] = ()  # empty: the agent side is same-origin only
    allowed_hosts: tuple[str, ...] = ()  # empty: the served address, localhost, 127.0.0.1
    rate_limits: bool = True
    trust_proxy: bool = False
    bcrypt_rounds: int = 12
    # Realtime tuning beyond the contract (documented in docs/realtime.md).
    heartbeat_seconds: int = 20  # protocol pings; a peer silent for as long again is dead
    typing_timeout_seconds: int = 6  # "typing…" not refreshed this long is cleared
    ws_queue_frames: int = 256  # a connection this far behind is closed with 1013
    # Several instances on one database: one silent this long is taken for dead and
    # its agents' connections let go (docs/deploying.md).
    instance_timeout_seconds: int = 30
    # A connection that has not finished its request headers this long is closed.
    header_timeout_seconds: int = 10

    @classmethod
    def load(
        cls,
        argv_options: Mapping[str, str | None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Parse every setting from raw text; ``argv_options`` maps field names to CLI values.

        An empty environment variable counts as unset (compose files often leave them so).
        Raises SettingsError naming the variable or option for the first bad value.
        """
        argv_options = argv_options or {}
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, parse in PARSERS.items():
            variable = env_name(name)
            if argv_options.get(name) is not None:
                values[name] = parse(str(argv_options[name]), option_name(name))
            elif env.get(variable):
                values[name] = parse(env[variable], variable)
        return cls(**values)


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _bad(source: str, raw: str, expected: str) -> SettingsError:
    return SettingsError(f"{source} must be {expected}, not {raw!r}.")


def _integer(low: int, high: int | None = None) -> Callable[[str, str], int]:
    expected = f"an integer from {low} to {high}" if high else f"an integer of at least {low}"

    def parse(raw: str, source: str) -> int:
        try:
            value = int(raw.strip(), 10)
        except ValueError:
            raise _bad(source, raw, expected) from None
        if value < low or (high is not None and value > high):
            raise _bad(source, raw, expected)
        return value

    return parse


def _on_off(raw: str, source: str) -> bool:
    value = raw.strip().lower()
    if value not in ("on", "off"):
        raise _bad(source, raw, '"on" or "off"')
    return value == "on"


def _host(raw: str, source: str) -> str:
    value = raw.strip()
    if not value or any(c.isspace() for c in value):
        raise _bad(source, raw, "a host name or address")
    return value


POSTGRES_SCHEMES = ("postgresql", "postgres")


def _database(raw: str, source: str) -> str:
    value = raw.strip()
    expected = "a SQLite file path or a postgresql:// URL"
    if not value:
        raise _bad(source, raw, expected)
    if "://" in value and not is_postgres(value):
        raise _bad(source, raw, expected)
    return value


def is_postgres(database: str) -> bool:
    """A ``postgresql://`` (or ``postgres://``) URL rather than a SQLite file path."""
    return database.split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in database


REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url(raw: str, source: str) -> str:
    # Set: events cross instances through Redis (adapters/redis_bus). Unset: they
    # stay in the process, which is right for exactly one instance.
    value = raw.strip()
    if urlsplit(value).scheme.lower() not in REDIS_SCHEMES or "://" not in value:
        raise _bad(source, raw, "a redis://, rediss:// or unix:// URL")
    return value


def _redis_namespace(raw: str, source: str) -> str:
    value = raw.strip()
    if not value or any(c.isspace() or c == ":" for c in value):
        raise _bad(source, raw, "a name without spaces or colons")
    return value


def _secret_key(raw: str, source: str) -> str:
    if len(raw) < SECRET_KEY_MIN_CHARS:
        raise SettingsError(
            f"{source} must be at least {SECRET_KEY_MIN_CHARS} characters"
            " (try: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    return raw


def _origins(raw: str, source: str) -> tuple[str, ...]:
    origins = tuple(part.strip() for part in raw.split(",") if part.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path
            or parts.query
            or parts.fragment
        ):
            raise _bad(source, origin, "comma-separated origins like https://support.example.com")
    return origins


def _hosts(raw: str, source: str) -> tuple[str, ...]:
    hosts = tuple(part.strip() for part in raw.split(",") if part.strip())
    for host in hosts:
        if any(c.isspace() or c in "/?#@" for c in host):
            raise _bad(source, host, "comma-separated host names like support.example.com")
    return hosts


def trusted_hosts(settings: Settings) -> tuple[str, ...]:
    """The ``Host`` names to answer: the configured ones, else the address served and loopback."""
    return settings.allowed_hosts or (settings.host, "localhost", "127.0.0.1")


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "host": _host,
    "port": _integer(1, 65535),
    "database": _database,
    "redis_url": _redis_url,
    "redis_namespace": _redis_namespace,
    "secret_key": _secret_key,
    "token_ttl_seconds": _integer(1),
    "agent_capacity": _integer(0),
    "presence_grace_seconds": _integer(0),
    "allowed_origins": _origins,
    "allowed_hosts": _hosts,
    "rate_limits": _on_off,
    "trust_proxy": _on_off,
    "bcrypt_rounds": _integer(4, 31),
    "heartbeat_seconds": _integer(1, 3600),
    "typing_timeout_seconds": _integer(1, 600),
    "ws_queue_frames": _integer(1, 100000),
    "instance_timeout_seconds": _integer(1, 3600),
    "header_timeout_seconds": _integer(1, 600),
}
assert set(PARSERS) == {f.name for f in fields(Settings)}, "every setting needs a parser"


def secret_path(settings: Settings) -> Path:
    return Path(settings.database + ".secret")


def resolve_secret(settings: Settings) -> str:
    """The token signing key: the configured one, else the one kept beside the database.

    Made once with 384 random bits and written 0600, so tokens survive restarts
    without the operator managing a key. Two processes starting together agree:
    the file appears atomically (hard link), and the loser reads the winner's key.
    """
    if settings.secret_key:
        return settings.secret_key
    if is_postgres(settings.database):
        # Instances sharing a database must sign alike, and no file lies beside it.
        raise SettingsError(
            f"{env_name('secret_key')} must be set with a PostgreSQL database: every"
            " instance must sign tokens with the same key, and there is no file beside"
            " the database to keep one in."
        )
    if settings.database == MEMORY_DATABASE:
        return secrets.token_urlsafe(48)  # nothing to keep it beside; dies with the process
    path = secret_path(settings)
    try:
        return _read_secret(path) if path.exists() else _create_secret(path)
    except OSError as error:
        raise SettingsError(f"Cannot keep the secret key in {path}: {error.strerror}.") from None


def _read_secret(path: Path) -> str:
    if path.stat().st_mode & 0o077:  # left readable to others by an older version or a copy
        path.chmod(0o600)
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < SECRET_KEY_MIN_CHARS:
        raise SettingsError(
            f"{path} holds no usable secret key; delete it to make a new one"
            f" (agents will have to log in again) or set {env_name('secret_key')}."
        )
    return secret


def _create_secret(path: Path) -> str:
    secret = secrets.token_urlsafe(48)
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp makes it 0600
            file.write(secret + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.link(scratch, path)  # fails if another process got there first
    except FileExistsError:
        return _read_secret(path)
    finally:
        os.unlink(scratch)
    return secret
