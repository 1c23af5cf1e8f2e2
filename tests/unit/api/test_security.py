"""Passwords, tokens and the role matrix, including the token attacks an API must refuse."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re

import jwt
import orjson
import pytest

from marketpulse.api.main import create_app
from marketpulse.api.middleware import RedactTokens
from marketpulse.api.security import (
    ACCESS_TTL,
    PERMISSIONS,
    AuthError,
    Role,
    allowed,
    hash_password,
    issue,
    token_digest,
    verify,
    verify_password,
)
from marketpulse.settings import Settings

SECRET = "test-secret-" + "0" * 64
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
USER = "2f1c6a52-9c3e-4f47-a7a1-0c1f8f4e2d11"
SESSION = "8b0e1d7a-3f52-4c61-9d0a-6e2b7c4f5a90"


def access() -> str:
    return issue(SECRET, USER, SESSION, "access", ["analyst"], NOW)


def test_passwords_hash_and_verify() -> None:
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$2b$12$")
    assert verify_password("correct horse battery staple", hashed)
    assert not verify_password("correct horse battery stapl", hashed)
    assert hash_password("x") != hash_password("x")  # salted
    with pytest.raises(ValueError, match="72 bytes"):
        hash_password("é" * 40)
    assert not verify_password("a" * 100, hashed)


def test_a_valid_access_token_verifies_with_its_claims() -> None:
    claims = verify(SECRET, access(), "access", NOW + dt.timedelta(minutes=1))
    assert (claims.subject, claims.session, claims.type, claims.roles) == (
        USER, SESSION, "access", ["analyst"]
    )  # fmt: skip
    assert claims.expires == NOW + ACCESS_TTL


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(AuthError, match="expired"):
        verify(SECRET, access(), "access", NOW + ACCESS_TTL)


def test_a_token_signed_with_another_key_is_refused() -> None:
    forged = issue("another-secret-" + "1" * 64, USER, SESSION, "access",
                   ["admin"], NOW)  # fmt: skip
    with pytest.raises(AuthError, match="Signature verification failed"):
        verify(SECRET, forged, "access", NOW)


def unsigned(claims: dict[str, object], alg: str) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}."


def test_alg_none_and_other_algorithms_are_refused() -> None:
    claims = jwt.decode(access(), SECRET, algorithms=["HS256"], options={"verify_exp": False})
    claims["roles"] = ["admin"]
    for alg in ("none", "None", "HS512"):
        with pytest.raises(AuthError, match="invalid token"):
            verify(SECRET, unsigned(claims, alg), "access", NOW)
    other = jwt.encode(claims, SECRET, algorithm="HS512")
    with pytest.raises(AuthError, match="alg value is not allowed"):
        verify(SECRET, other, "access", NOW)


def test_a_tampered_payload_is_refused() -> None:
    head, body, signature = access().split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["roles"] = ["admin"]
    forged_body = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="Signature verification failed"):
        verify(SECRET, f"{head}.{forged_body}.{signature}", "access", NOW)


def test_a_refresh_token_is_not_an_access_token_and_back() -> None:
    refresh = issue(SECRET, USER, SESSION, "refresh", [], NOW)
    with pytest.raises(AuthError, match="refresh token given where access token"):
        verify(SECRET, refresh, "access", NOW)
    with pytest.raises(AuthError, match="access token given where refresh token"):
        verify(SECRET, access(), "refresh", NOW)
    assert verify(SECRET, refresh, "refresh", NOW + dt.timedelta(days=6)).session == SESSION


def test_tokens_without_the_required_claims_are_refused() -> None:
    token = jwt.encode({"sub": "u", "exp": NOW + ACCESS_TTL}, SECRET, algorithm="HS256")
    with pytest.raises(AuthError, match="invalid token"):
        verify(SECRET, token, "access", NOW)
    with pytest.raises(AuthError, match="invalid token"):
        verify(SECRET, "not.a.jwt", "access", NOW)


def test_each_refresh_token_is_unique_and_stored_only_as_a_digest() -> None:
    a = issue(SECRET, USER, SESSION, "refresh", [], NOW)
    b = issue(SECRET, USER, SESSION, "refresh", [], NOW)
    assert a != b
    assert token_digest(a) != token_digest(b)
    assert len(token_digest(a)) == 64
    assert a not in token_digest(a)


@pytest.mark.parametrize(
    ("roles", "action", "expected"),
    [
        (["user"], "market_data:read", True),
        (["user"], "indicators:compute", False),
        (["analyst"], "indicators:compute", True),
        (["analyst"], "storage:write", False),
        (["admin"], "storage:write", True),
        (["admin"], "security:read", True),
        (["user", "admin"], "security:read", True),
        (["root"], "market_data:read", False),
        ([], "market_data:read", False),
        (["admin"], "no:such:action", False),
    ],
)
def test_the_permission_matrix(roles: list[str], action: str, expected: bool) -> None:
    assert allowed(roles, action) is expected


def test_every_action_names_a_role() -> None:
    assert set(PERMISSIONS.values()) <= set(Role)


def test_tokens_in_query_strings_are_masked_in_uvicorn_lines(settings: Settings) -> None:
    create_app(settings)  # installs the filter
    logger = logging.getLogger("uvicorn.error")
    record = logger.makeRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/api/v1/stream?symbols=AAPL&token=eyJhbGci.payload.sig&x=1"), None,
    )  # fmt: skip
    assert logger.filter(record)
    assert record.getMessage() == (
        '127.0.0.1:5000 - "WebSocket /api/v1/stream?symbols=AAPL&token=***&x=1" [accepted]'
    )
    create_app(settings)
    assert sum(isinstance(f, RedactTokens) for f in logger.filters) == 1


def test_bcrypt_takes_exactly_72_bytes() -> None:
    longest = "a" * 72
    hashed = hash_password(longest, rounds=4)
    assert verify_password(longest, hashed)
    with pytest.raises(ValueError, match=r"^passwords are limited to 72 bytes \(bcrypt's input\)$"):
        hash_password(longest + "a", rounds=4)
    # bcrypt itself would ignore the 73rd byte: such a password must not match
    assert not verify_password(longest + "a", hashed)


def test_the_refusal_says_why_and_the_claims_carry_the_token_id() -> None:
    token = access()
    with pytest.raises(AuthError, match=r"^token expired$"):
        verify(SECRET, token, "access", NOW + ACCESS_TTL)
    claims = verify(SECRET, token, "access", NOW)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims.token_id == payload["jti"]


def test_a_token_without_roles_has_none() -> None:
    claims = {"sub": USER, "sid": SESSION, "typ": "access", "jti": "j",
              "exp": NOW + dt.timedelta(minutes=5)}  # fmt: skip
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verify(SECRET, token, "access", NOW).roles == []


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"sub": "admin"}, "sub is not a UUID"),
        ({"sub": 7}, "Subject must be a string"),  # PyJWT's own check
        ({"sid": ["x"]}, "sid is not a UUID"),
        ({"typ": 1}, "typ is not a string"),
        ({"jti": None}, 'Token is missing the "jti" claim'),  # PyJWT's own check
        ({"jti": 5}, "JWT ID must be a string"),
        ({"exp": "tomorrow"}, "exp is not a time"),
        ({"exp": True}, "exp is not a time"),
        ({"exp": 1e300}, "exp is not a time"),
        ({"roles": "admin"}, "roles is not a list of names"),
        ({"roles": [1]}, "roles is not a list of names"),
    ],
)
def test_well_signed_claims_of_the_wrong_type_are_refused(
    changes: dict[str, object], why: str
) -> None:
    claims = {"sub": USER, "sid": SESSION, "typ": "access", "jti": "j", "roles": [],
              "exp": int((NOW + dt.timedelta(minutes=5)).timestamp()), **changes}  # fmt: skip
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(AuthError, match=rf"^invalid token: {re.escape(why)}$"):
        verify(SECRET, token, "access", NOW)


def test_an_mfa_token_belongs_to_no_session_yet_and_verifies() -> None:
    token = issue(SECRET, USER, "", "mfa", [], NOW)
    claims = verify(SECRET, token, "mfa", NOW)
    assert (claims.subject, claims.session, claims.type) == (USER, "", "mfa")
    forged = jwt.encode(
        {"sub": "not-a-user", "sid": "", "typ": "mfa", "jti": "j",
         "exp": int((NOW + dt.timedelta(minutes=1)).timestamp())},
        SECRET, algorithm="HS256",
    )  # fmt: skip
    with pytest.raises(AuthError, match=r"^invalid token: sub is not a UUID$"):
        verify(SECRET, forged, "mfa", NOW)
