"""Passwords, tokens and roles for the API.

* Passwords: bcrypt (cost 12), with the 72-byte input limit refused rather than silently cut.
* Tokens: JWT through PyJWT, HS256 only: the algorithm is pinned on decode, so ``alg: none`` and
  algorithm-confusion tokens are refused. An access token (``typ: access``, 15 minutes) carries
  the user, their roles and the session; a refresh token (``typ: refresh``, 7 days) carries the
  session and a fresh id (``jti``) per issue, so the server can rotate it and spot reuse. A token
  of one type is never accepted as the other. A password login of a user with TOTP on gets only
  a short ``typ: mfa`` token (5 minutes), good for nothing but the second step.
* Roles: user < analyst < admin; :data:`PERMISSIONS` is the matrix docs/api.md documents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import bcrypt
import jwt

from marketpulse.errors import MarketPulseError

ALGORITHM = "HS256"
ACCESS_TTL = dt.timedelta(minutes=15)
REFRESH_TTL = dt.timedelta(days=7)
MFA_TTL = dt.timedelta(minutes=5)
_TTL = {"access": ACCESS_TTL, "refresh": REFRESH_TTL, "mfa": MFA_TTL}
BCRYPT_COST = 12
TokenType = Literal["access", "refresh", "mfa"]


class AuthError(MarketPulseError):
    """A credential that is wrong, expired, revoked or of the wrong kind (HTTP 401)."""


class Role(StrEnum):
    """Roles, each allowed what the one below is, and more."""

    USER = "user"
    ANALYST = "analyst"
    ADMIN = "admin"


# action -> the least role allowed to do it
PERMISSIONS: dict[str, Role] = {
    "market_data:read": Role.USER,
    "signals:read": Role.USER,
    "indicators:read": Role.USER,
    "indicators:compute": Role.ANALYST,
    "jobs:read": Role.ANALYST,
    "storage:read": Role.ANALYST,
    "storage:write": Role.ADMIN,
    "security:read": Role.ADMIN,
    "users:admin": Role.ADMIN,
}
_RANK = {Role.USER: 0, Role.ANALYST: 1, Role.ADMIN: 2}


def allowed(roles: list[str], action: str) -> bool:
    """Whether a holder of ``roles`` may do ``action`` (unknown actions: nobody)."""
    needed = PERMISSIONS.get(action)
    if needed is None:
        return False
    ranks = [_RANK[Role(r)] for r in roles if r in _RANK]
    return bool(ranks) and max(ranks) >= _RANK[needed]


def hash_password(password: str, rounds: int = BCRYPT_COST) -> str:
    """A bcrypt hash of the password (slow on purpose: call it off the event loop)."""
    raw = password.encode()
    if len(raw) > 72:
        raise ValueError("passwords are limited to 72 bytes (bcrypt's input)")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches the stored hash (constant time)."""
    raw = password.encode()
    return len(raw) <= 72 and bcrypt.checkpw(raw, hashed.encode())


def token_digest(token: str) -> str:
    """What is stored of a refresh token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Claims:
    """A verified token's contents."""

    subject: str  # user id
    session: str
    type: TokenType
    roles: list[str]
    token_id: str
    expires: dt.datetime


def issue(
    secret: str,
    subject: str,
    session: str,
    token_type: TokenType,
    roles: list[str],
    now: dt.datetime,
) -> str:
    """A signed token of ``token_type`` for the user and session."""
    ttl = _TTL[token_type]
    claims: dict[str, Any] = {
        "sub": subject,
        "sid": session,
        "typ": token_type,
        "roles": roles,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, expected: TokenType, now: dt.datetime) -> Claims:
    """Check signature, algorithm, expiry and type; raise :class:`AuthError` otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "sid", "typ", "jti", "exp"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    _check_claim_types(claims)
    try:
        expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise AuthError("invalid token: exp is not a time") from None
    if expires <= now:
        raise AuthError("token expired")
    if claims["typ"] != expected:
        raise AuthError(f"{claims['typ']} token given where {expected} token is needed")
    return Claims(
        subject=claims["sub"],
        session=claims["sid"],
        type=claims["typ"],
        roles=list(claims.get("roles", [])),
        token_id=claims["jti"],
        expires=expires,
    )


def _check_claim_types(claims: dict[str, Any]) -> None:
    """A well-signed token can still carry claims of the wrong type (signed by a key that
    leaked, or by a buggy issuer): refuse them as invalid rather than fail on them later."""
    # an mfa token belongs to no session yet: its sid is empty
    for name in ("sub", "sid") if claims["sid"] != "" else ("sub",):
        try:
            uuid.UUID(claims[name])
        except (TypeError, ValueError, AttributeError):
            raise AuthError(f"invalid token: {name} is not a UUID") from None
    if not isinstance(claims["typ"], str):  # PyJWT checks sub's and jti's types itself
        raise AuthError("invalid token: typ is not a string")
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise AuthError("invalid token: exp is not a time")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthError("invalid token: roles is not a list of names")
