"""What endpoints depend on: the stores, the signed-in user, permissions and rate limits.

Every route under ``/api/v1`` takes exactly one gate: :data:`Public` (rate limits only) or a
:class:`SignedIn` (rate limits, token, session and role).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, replace
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from fastapi import Depends, Request
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.openapi.models import OAuthFlowPassword, OAuthFlows
from fastapi.security.base import SecurityBase
from redis.exceptions import RedisError

from marketpulse import metrics
from marketpulse.api import security
from marketpulse.api.errors import ApiError
from marketpulse.api.lockout import Lockout
from marketpulse.api.ratelimit import RateLimiter, limits_for
from marketpulse.api.routers import API_PREFIX
from marketpulse.api.security import AuthError, Claims
from marketpulse.settings import Settings
from marketpulse.storage.cache import LatestReader, ResponseCache
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.repositories.users import SessionRepository, UserRepository

RATE_GROUP = "x-rate-limit-group"  # a route's openapi_extra key naming its endpoint limit


@dataclass
class Stores:
    """The clients one API process shares, made in the app's lifespan."""

    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    influx: InfluxClient
    latest: LatestReader
    responses: ResponseCache
    limiter: RateLimiter
    lockout: Lockout
    lag_measurement: asyncio.Task[dict[str, int | None]] | None = None  # see api.health

    def now(self) -> dt.datetime:
        """The wall clock (token expiry, sessions)."""
        return dt.datetime.now(dt.UTC)


def session_key(session_id: str) -> str:
    """``session:{session_id}``: present while the session is open (see :func:`session_entry`)."""
    return f"session:{session_id}"


def session_entry(user_id: UUID | str, roles: list[str]) -> str:
    """What ``session:{id}`` holds: the session's user and that user's roles, so that each
    request learns both from the key it reads anyway."""
    return f"{user_id}|{','.join(roles)}"


async def session_roles(
    stores: Stores, claims: Claims, entry: str | None = None
) -> list[str] | None:
    """The roles of the token's session, from the server's records, not from the token: None
    when the session has ended or belongs to another user than the token's subject.

    ``entry`` is the session key as the caller has just read it (the rate limiter reads it in
    the same round trip); otherwise Redis is asked. Without a usable entry (Redis lost it, or is
    down), PostgreSQL decides, and the entry is restored."""
    if entry is None:
        try:
            found = await stores.redis.get(session_key(claims.session))
        except (RedisError, OSError):
            found = None
        entry = found.decode() if isinstance(found, bytes) else (found or "")
    owner, bar, roles = entry.partition("|")
    if bar:
        if owner != claims.subject:
            return None
        return roles.split(",") if roles else []
    session = await SessionRepository(stores.pool).active(UUID(claims.session), stores.now())
    if session is None or session.expires_at is None or str(session.user_id) != claims.subject:
        return None
    user = await UserRepository(stores.pool).get(session.user_id)
    if user is None or not user.is_active:
        return None
    ttl = int((session.expires_at - stores.now()).total_seconds())
    try:
        await stores.redis.set(
            session_key(claims.session), session_entry(user.user_id, user.roles), ex=max(1, ttl)
        )
    except (RedisError, OSError):
        pass
    return user.roles


# (secret, token) -> its claims: a signature check costs ~100 us
_VERIFIED: dict[tuple[str, str], Claims] = {}
_VERIFIED_MAX = 50_000


def _verified(stores: Stores, token: str) -> Claims:
    """Verify an access token, remembering good ones: only their expiry needs checking again."""
    secret = stores.settings.jwt_secret.get_secret_value()
    known = _VERIFIED.get((secret, token))
    if known is not None and known.expires > stores.now():
        return known
    claims = security.verify(secret, token, "access", stores.now())
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[(secret, token)] = claims
    return claims


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def permit(claims: Claims, action: str, why: str = "", **details: Any) -> None:
    """403 unless ``claims`` allow ``action``."""
    if not security.allowed(claims.roles, action):
        needed = security.PERMISSIONS.get(action)
        message = f"{why}this needs the {needed} role" if needed else "not allowed"
        raise ApiError(403, message, details={"action": action, "roles": claims.roles, **details})


def client_ip(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's client there when trusted)."""
    return request.client.host if request.client else "unknown"


async def _count(request: Request, stores: Stores, claims: Claims | None) -> str | None:
    """Count the request against its IP, user and endpoint limits; 429 when one is used up.
    The caller's session entry as read on the way (None when Redis could not be asked)."""
    route: Any = request.scope.get("route")
    group = (getattr(route, "openapi_extra", None) or {}).get(RATE_GROUP)
    settings = stores.settings
    limits = limits_for(
        client_ip(request),
        claims.subject if claims else None,
        group,
        settings.api_rate_ip,
        settings.api_rate_user,
        settings.api_rate_endpoints,
    )
    decision = await stores.limiter.hit(limits, session_key(claims.session) if claims else "")
    if decision is None:
        return None
    request.scope["state"]["rate_limit_headers"] = decision.headers()
    if not decision.allowed:
        metrics.API_RATE_LIMITED.labels(decision.scope).inc()
        raise ApiError(
            429,
            f"rate limit exceeded ({decision.limit} requests per {settings.api_rate_window_s} s "
            f"per {decision.scope}); retry later",
            details={"scope": decision.scope, "limit": decision.limit},
        )
    return decision.session


def app_stores(request: Request) -> Stores:
    """The app's shared clients."""
    stores: Stores = request.app.state.stores
    return stores


class MissingToken(AuthError):
    """No bearer token at all (as against a bad one)."""


def request_claims(request: Request, stores: Stores) -> Claims | AuthError:
    """The request's verified access token, or why there is none."""
    token = _bearer_token(request)
    if token is None:
        return MissingToken("not authenticated: send Authorization: Bearer <access token>")
    try:
        return _verified(stores, token)
    except AuthError as exc:
        return exc


async def rate_limited(request: Request) -> Stores:
    """The gate of a public route: the request counted against its address's limits, whatever
    token it carries (one would otherwise move a sign-in to another user's budget); the app's
    shared clients."""
    stores = app_stores(request)
    await _count(request, stores, None)
    return stores


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in request let through: the app's shared clients and the caller's token."""

    stores: Stores
    claims: Claims


class SignedIn(SecurityBase):
    """The gate of a signed-in route: the request counted against its limits, then a valid
    access token of an open session whose roles allow ``action`` (any signed-in user when
    None); 429, 401 or 403 otherwise.

    Each route has exactly one gate, and a gate has no dependencies of its own: FastAPI solves
    every node of a route's dependency tree on every request, at tens of microseconds each. It
    is a security scheme, so OpenAPI shows the OAuth2 password flow on exactly these routes.
    """

    def __init__(self, action: str | None = None) -> None:
        password = OAuthFlowPassword(tokenUrl=f"{API_PREFIX}/auth/login", scopes={})
        self.model = OAuth2Model(flows=OAuthFlows(password=password))
        self.scheme_name = "OAuth2PasswordBearer"
        self.action = action

    async def __call__(self, request: Request) -> Caller:
        stores = app_stores(request)
        claims = request_claims(request, stores)
        # counted first: a refused request is not checked further
        seen = await _count(request, stores, claims if isinstance(claims, Claims) else None)
        if isinstance(claims, AuthError):
            missing = isinstance(claims, MissingToken)
            metrics.API_AUTH_FAILURES.labels("missing" if missing else "invalid").inc()
            raise claims
        roles = await session_roles(stores, claims, seen)
        if roles is None:
            metrics.API_AUTH_FAILURES.labels("revoked").inc()
            raise AuthError("the session has ended; sign in again")
        claims = replace(claims, roles=roles)  # the server's, whatever the token says
        request.scope["state"]["user_id"] = claims.subject
        if self.action is not None:
            permit(claims, self.action)
        return Caller(stores, claims)


Public = Annotated[Stores, Depends(rate_limited)]
Authenticated = Annotated[Caller, Depends(SignedIn())]


def rate_group(group: str) -> dict[str, Any]:
    """``openapi_extra`` putting a route under an endpoint limit (and saying so in OpenAPI)."""
    return {RATE_GROUP: group}
