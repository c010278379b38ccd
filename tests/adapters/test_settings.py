"""Settings: defaults < CHATCORE_* variables < command line, clear refusals, the kept secret."""

from __future__ import annotations

import os
import stat
from dataclasses import fields
from pathlib import Path

import pytest

from entrypoints.settings import (
    PARSERS,
    Settings,
    SettingsError,
    env_name,
    resolve_secret,
    secret_path,
    trusted_hosts,
)


def test_defaults_follow_the_contract() -> None:
    settings = Settings.load({}, {})
    assert settings == Settings()
    assert (settings.host, settings.port, settings.database) == ("127.0.0.1", 8000, "chatcore.db")
    assert settings.redis_url is None
    assert settings.secret_key is None
    assert settings.token_ttl_seconds == 43200
    assert settings.agent_capacity == 0
    assert settings.presence_grace_seconds == 60
    assert settings.allowed_origins == ()
    assert settings.rate_limits is True
    assert settings.trust_proxy is False
    assert settings.bcrypt_rounds == 12


def test_every_setting_has_a_variable() -> None:
    assert set(PARSERS) == {f.name for f in fields(Settings)}
    assert env_name("agent_capacity") == "CHATCORE_AGENT_CAPACITY"


def test_environment_overrides_defaults() -> None:
    env = {
        "CHATCORE_HOST": "0.0.0.0",
        "CHATCORE_PORT": "9000",
        "CHATCORE_DATABASE": "/srv/chat.db",
        "CHATCORE_SECRET_KEY": "k" * 40,
        "CHATCORE_TOKEN_TTL_SECONDS": "600",
        "CHATCORE_AGENT_CAPACITY": "3",
        "CHATCORE_PRESENCE_GRACE_SECONDS": "5",
        "CHATCORE_ALLOWED_ORIGINS": "https://a.example, http://b.example:8080,",
        "CHATCORE_RATE_LIMITS": "OFF",
        "CHATCORE_TRUST_PROXY": "on",
        "CHATCORE_BCRYPT_ROUNDS": "4",
    }
    assert Settings.load({}, env) == Settings(
        host="0.0.0.0",
        port=9000,
        database="/srv/chat.db",
        secret_key="k" * 40,
        token_ttl_seconds=600,
        agent_capacity=3,
        presence_grace_seconds=5,
        allowed_origins=("https://a.example", "http://b.example:8080"),
        rate_limits=False,
        trust_proxy=True,
        bcrypt_rounds=4,
    )


def test_command_line_wins_over_environment() -> None:
    env = {"CHATCORE_PORT": "9000", "CHATCORE_HOST": "0.0.0.0", "CHATCORE_AGENT_CAPACITY": "3"}
    settings = Settings.load({"port": "9100", "host": None}, env)
    assert settings.port == 9100  # argv beats env
    assert settings.host == "0.0.0.0"  # an option not given leaves env in charge
    assert settings.agent_capacity == 3


def test_an_empty_variable_counts_as_unset() -> None:
    assert Settings.load({}, {"CHATCORE_PORT": "", "CHATCORE_DATABASE": ""}) == Settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHATCORE_PORT", "eighty"),
        ("CHATCORE_PORT", "70000"),
        ("CHATCORE_PORT", "0"),
        ("CHATCORE_AGENT_CAPACITY", "-1"),
        ("CHATCORE_TOKEN_TTL_SECONDS", "0"),
        ("CHATCORE_PRESENCE_GRACE_SECONDS", "1.5"),
        ("CHATCORE_RATE_LIMITS", "yes"),
        ("CHATCORE_TRUST_PROXY", "true"),
        ("CHATCORE_BCRYPT_ROUNDS", "3"),
        ("CHATCORE_BCRYPT_ROUNDS", "32"),
        ("CHATCORE_ALLOWED_ORIGINS", "support.example.com"),
        ("CHATCORE_ALLOWED_ORIGINS", "https://a.example/console"),
        ("CHATCORE_ALLOWED_HOSTS", "https://chat.example.com"),
        ("CHATCORE_ALLOWED_HOSTS", "chat.example.com/console"),
        ("CHATCORE_SECRET_KEY", "short"),
        ("CHATCORE_HOST", "my host"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.load({}, {variable: value})
    assert variable in raised.value.message
    assert isinstance(raised.value, SystemExit)


def test_allowed_hosts_default_to_the_served_address_and_loopback() -> None:
    assert trusted_hosts(Settings.load({}, {})) == ("127.0.0.1", "localhost", "127.0.0.1")
    served = Settings.load({}, {"CHATCORE_HOST": "10.0.0.5"})
    assert trusted_hosts(served) == ("10.0.0.5", "localhost", "127.0.0.1")
    listed = Settings.load({}, {"CHATCORE_ALLOWED_HOSTS": " chat.example.com, *.example.org "})
    assert trusted_hosts(listed) == ("chat.example.com", "*.example.org")


def test_bad_option_names_the_option() -> None:
    with pytest.raises(SettingsError, match="--port must be an integer from 1 to 65535"):
        Settings.load({"port": "x"}, {"CHATCORE_PORT": "8080"})


def test_a_postgresql_url_is_accepted_and_other_urls_are_not() -> None:
    url = "postgresql://chat@db/chat"
    assert Settings.load({}, {"CHATCORE_DATABASE": url}).database == url
    with pytest.raises(SettingsError, match="CHATCORE_DATABASE must be a SQLite file path or a"):
        Settings.load({}, {"CHATCORE_DATABASE": "mysql://chat@db/chat"})


def test_postgresql_needs_a_configured_secret_key() -> None:
    settings = Settings.load({}, {"CHATCORE_DATABASE": "postgresql://chat@db/chat"})
    with pytest.raises(SettingsError, match="CHATCORE_SECRET_KEY must be set with a PostgreSQL"):
        resolve_secret(settings)


def test_a_redis_url_is_taken_and_checked() -> None:
    settings = Settings.load({}, {"CHATCORE_REDIS_URL": "redis://localhost:6379/0"})
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.redis_namespace == "chatcore"
    with pytest.raises(SettingsError, match="CHATCORE_REDIS_URL must be a redis://"):
        Settings.load({}, {"CHATCORE_REDIS_URL": "http://localhost:6379"})
    named = Settings.load({}, {"CHATCORE_REDIS_NAMESPACE": "staging"})
    assert named.redis_namespace == "staging"
    with pytest.raises(SettingsError, match="CHATCORE_REDIS_NAMESPACE must be"):
        Settings.load({}, {"CHATCORE_REDIS_NAMESPACE": "a:b"})


def test_a_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "chat.db"), secret_key="k" * 40)
    assert resolve_secret(settings) == "k" * 40
    assert not secret_path(settings).exists()


def test_secret_is_made_once_kept_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "chat.db"))
    first = resolve_secret(settings)
    path = tmp_path / "chat.db.secret"
    assert path.read_text().strip() == first
    assert len(first) >= 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert resolve_secret(settings) == first
    assert resolve_secret(Settings(database=str(tmp_path / "chat.db"))) == first
    assert list(tmp_path.iterdir()) == [path]  # no scratch file left behind


def test_each_database_has_its_own_secret(tmp_path: Path) -> None:
    one = resolve_secret(Settings(database=str(tmp_path / "one.db")))
    two = resolve_secret(Settings(database=str(tmp_path / "two.db")))
    assert one != two


def test_a_damaged_secret_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "chat.db.secret").write_text("\n")
    with pytest.raises(SettingsError, match="holds no usable secret key"):
        resolve_secret(Settings(database=str(tmp_path / "chat.db")))


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(database=str(tmp_path / "nowhere" / "chat.db"))
    with pytest.raises(SettingsError, match="Cannot keep the secret key"):
        resolve_secret(settings)
