"""BcryptHasher and JwtTokenService against the real bcrypt and PyJWT."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from adapters.security import BcryptHasher, JwtTokenService
from chatcore.errors import Unauthorized

SECRET = "s" * 64  # long enough for HS512 too, which one test tries
NOW = datetime(2026, 11, 25, 21, 49, 26, 123000, tzinfo=UTC)
TTL = timedelta(hours=12)


@pytest.fixture(scope="module")
def hasher() -> BcryptHasher:
    return BcryptHasher(rounds=4)


@pytest.fixture
def tokens() -> JwtTokenService:
    return JwtTokenService(SECRET, ttl=TTL)


def test_hash_verifies_its_password_only(hasher: BcryptHasher) -> None:
    hashed = hasher.hash("correct horse battery")
    assert hashed.startswith("$2b$04$")
    assert hasher.verify("correct horse battery", hashed)
    assert not hasher.verify("correct horse batterY", hashed)


def test_hashes_are_salted(hasher: BcryptHasher) -> None:
    assert hasher.hash("correct horse battery") != hasher.hash("correct horse battery")


def test_long_passwords_differ_beyond_72_bytes(hasher: BcryptHasher) -> None:
    shared = "x" * 100
    hashed = hasher.hash(shared + "a")
    assert hasher.verify(shared + "a", hashed)
    assert not hasher.verify(shared + "b", hashed)
    assert not hasher.verify(shared, hashed)


def test_multibyte_password_of_128_chars(hasher: BcryptHasher) -> None:
    password = "é" * 127 + "ü"  # 256 UTF-8 bytes
    hashed = hasher.hash(password)
    assert hasher.verify(password, hashed)
    assert not hasher.verify("é" * 128, hashed)


def test_verify_without_hash_is_false(hasher: BcryptHasher) -> None:
    assert hasher.verify("anything at all", None) is False
    assert hasher.verify("chatcore timing equaliser", None) is False


@pytest.mark.parametrize("stored", ["", "not a hash", "$2b$04$short", "☃" * 60])
def test_verify_never_raises_on_a_damaged_hash(hasher: BcryptHasher, stored: str) -> None:
    assert hasher.verify("correct horse battery", stored) is False


def test_rounds_are_bounded() -> None:
    with pytest.raises(ValueError, match="rounds"):
        BcryptHasher(rounds=3)


def test_token_round_trip(tokens: JwtTokenService) -> None:
    issued = tokens.issue("agent-1", token_id="tok-1", now=NOW)
    assert issued.token_id == "tok-1"
    assert issued.expires_at == NOW + TTL
    claims = tokens.read(issued.token, now=NOW + timedelta(minutes=5))
    assert claims.agent_id == "agent-1"
    assert claims.token_id == "tok-1"
    assert claims.expires_at == (NOW + TTL).replace(microsecond=0)


def test_token_claims_on_the_wire(tokens: JwtTokenService) -> None:
    issued = tokens.issue("agent-1", token_id="tok-1", now=NOW)
    header = jwt.get_unverified_header(issued.token)
    payload = jwt.decode(issued.token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert set(payload) == {"sub", "jti", "iat", "exp"}
    assert payload["exp"] - payload["iat"] == TTL.total_seconds()


def test_expiry_follows_the_passed_in_clock(tokens: JwtTokenService) -> None:
    # Issued and read far from the wall clock: only the given `now` counts.
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    issued = tokens.issue("agent-1", token_id="tok-1", now=long_ago)
    assert tokens.read(issued.token, now=long_ago + TTL - timedelta(seconds=1)).agent_id
    with pytest.raises(Unauthorized):
        tokens.read(issued.token, now=long_ago + TTL)
    with pytest.raises(Unauthorized):
        tokens.read(issued.token, now=long_ago + TTL + timedelta(days=1))


def test_forged_signature_is_refused(tokens: JwtTokenService) -> None:
    forged = JwtTokenService("f" * 48, ttl=TTL).issue("agent-1", token_id="tok-1", now=NOW)
    with pytest.raises(Unauthorized):
        tokens.read(forged.token, now=NOW)


def test_tampered_payload_is_refused(tokens: JwtTokenService) -> None:
    header, _, signature = tokens.issue("agent-1", token_id="tok-1", now=NOW).token.split(".")
    claims = {"sub": "admin", "jti": "tok-1", "iat": 0, "exp": 4102444800}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        tokens.read(f"{header}.{body}.{signature}", now=NOW)


def _unsigned(claims: dict[str, object], alg: str = "none") -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_is_refused(tokens: JwtTokenService) -> None:
    claims: dict[str, object] = {"sub": "agent-1", "jti": "t", "iat": 0, "exp": 4102444800}
    for alg in ("none", "None", "NONE"):
        with pytest.raises(Unauthorized):
            tokens.read(_unsigned(claims, alg), now=NOW)


def _signed(claims: dict[str, object]) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize("missing", ["sub", "jti", "iat", "exp"])
def test_each_claim_is_required(tokens: JwtTokenService, missing: str) -> None:
    claims: dict[str, object] = {"sub": "agent-1", "jti": "t", "iat": 0, "exp": 4102444800}
    del claims[missing]
    with pytest.raises(Unauthorized):
        tokens.read(_signed(claims), now=NOW)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("sub", 7), ("sub", ""), ("jti", ["t"]), ("exp", "4102444800"), ("exp", True), ("iat", 1.5)],
)
def test_claims_of_the_wrong_type_are_refused(
    tokens: JwtTokenService, claim: str, value: object
) -> None:
    claims: dict[str, object] = {"sub": "agent-1", "jti": "t", "iat": 0, "exp": 4102444800}
    claims[claim] = value
    with pytest.raises(Unauthorized):
        tokens.read(_signed(claims), now=NOW)


def test_other_algorithms_with_the_same_secret_are_refused(tokens: JwtTokenService) -> None:
    claims = {"sub": "agent-1", "jti": "t", "iat": 0, "exp": 4102444800}
    token = jwt.encode(claims, SECRET, algorithm="HS512")
    with pytest.raises(Unauthorized):
        tokens.read(token, now=NOW)


@pytest.mark.parametrize("garbage", ["", "garbage", "a.b.c", "...", "Bearer x", "é.é.é"])
def test_garbage_is_refused(tokens: JwtTokenService, garbage: str) -> None:
    with pytest.raises(Unauthorized):
        tokens.read(garbage, now=NOW)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        JwtTokenService("too short", ttl=TTL)
