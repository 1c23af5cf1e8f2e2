"""What endpoints depend on: the stores, the signed-in user, permissions and rate limits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from redis.exceptions import RedisError

from marketpulse import metrics
from marketpulse.api import security
from marketpulse.api.errors import ApiError
from marketpulse.api.ratelimit import RateLimiter, limits_for
from marketpulse.api.security import AuthError, Claims
from marketpulse.settings import Settings
from marketpulse.storage.cache import LatestReader, ResponseCache
from marketpulse.storage.influx import InfluxClient
from marketpulse.storage.repositories.users import SessionRepository

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

    def now(self) -> dt.datetime:
        """The wall clock (token expiry, sessions)."""
        return dt.datetime.now(dt.UTC)


async def get_stores(request: Request) -> Stores:
    """The app's shared clients (async: FastAPI would run a plain function in a thread)."""
    stores: Stores = request.app.state.stores
    return stores


StoresDep = Annotated[Stores, Depends(get_stores)]
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
BearerToken = Annotated[str | None, Depends(_bearer)]


def session_key(session_id: str) -> str:
    """SPEC.md's ``session:{session_id}``: present while the session is open."""
    return f"session:{session_id}"


async def session_open(stores: Stores, session_id: str, known_in_redis: bool = False) -> bool:
    """Whether a session is still open: Redis first (unless the caller has just seen its key
    there), PostgreSQL (the record) when Redis has no entry, which is then restored."""
    if known_in_redis:
        return True
    try:
        if await stores.redis.exists(session_key(session_id)):
            return True
    except (RedisError, OSError):
        pass
    try:
        sid = UUID(session_id)
    except ValueError:
        return False
    session = await SessionRepository(stores.pool).active(sid, stores.now())
    if session is None or session.expires_at is None:
        return False
    ttl = int((session.expires_at - stores.now()).total_seconds())
    try:
        await stores.redis.set(session_key(session_id), str(session.user_id), ex=max(1, ttl))
    except (RedisError, OSError):
        pass
    return True


# (secret, token) -> its claims: a signature check costs ~100 us
_VERIFIED: dict[tuple[str, str], Claims] = {}
_VERIFIED_MAX = 50_000


def _verified(request: Request, stores: Stores, token: str) -> Claims:
    """Verify an access token once per request (the rate limiter and the route both ask), and
    remember good tokens: only their expiry needs checking again."""
    state = request.state
    cached: Claims | AuthError | None = getattr(state, "claims", None)
    if cached is None:
        secret = stores.settings.jwt_secret.get_secret_value()
        known = _VERIFIED.get((secret, token))
        if known is not None and known.expires > stores.now():
            cached = known
        else:
            try:
                cached = security.verify(secret, token, "access", stores.now())
                if len(_VERIFIED) >= _VERIFIED_MAX:
                    _VERIFIED.clear()
                _VERIFIED[(secret, token)] = cached
            except AuthError as exc:
                cached = exc
        state.claims = cached
    if isinstance(cached, AuthError):
        raise cached
    return cached


async def current_claims(request: Request, stores: StoresDep, token: BearerToken) -> Claims:
    """The signed-in user's verified access token; 401 otherwise."""
    if not token:
        metrics.API_AUTH_FAILURES.labels("missing").inc()
        raise AuthError("not authenticated: send Authorization: Bearer <access token>")
    try:
        claims = _verified(request, stores, token)
    except AuthError:
        metrics.API_AUTH_FAILURES.labels("invalid").inc()
        raise
    seen = getattr(request.state, "session_seen", False)
    if not await session_open(stores, claims.session, known_in_redis=seen):
        metrics.API_AUTH_FAILURES.labels("revoked").inc()
        raise AuthError("the session has ended; sign in again")
    request.state.user_id = claims.subject
    return claims


CurrentClaims = Annotated[Claims, Depends(current_claims)]


def require(action: str) -> Callable[..., Awaitable[Claims]]:
    """A dependency that lets through only roles allowed to do ``action``."""

    async def check(claims: CurrentClaims) -> Claims:
        permit(claims, action)
        return claims

    return check


def permit(claims: Claims, action: str, why: str = "", **details: Any) -> None:
    """403 unless ``claims`` allow ``action``."""
    if not security.allowed(claims.roles, action):
        needed = security.PERMISSIONS.get(action)
        message = f"{why}this needs the {needed} role" if needed else "not allowed"
        raise ApiError(403, message, details={"action": action, "roles": claims.roles, **details})


def client_ip(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's client there when trusted)."""
    return request.client.host if request.client else "unknown"


async def rate_limit(request: Request, stores: StoresDep, token: BearerToken) -> None:
    """Count the request against its IP, user and endpoint limits; 429 when one is used up."""
    user_id: str | None = None
    session = ""
    if token:
        try:
            claims = _verified(request, stores, token)
            user_id, session = claims.subject, session_key(claims.session)
        except AuthError:
            user_id = None  # the route's own auth check answers this one
    route: Any = request.scope.get("route")
    group = (getattr(route, "openapi_extra", None) or {}).get(RATE_GROUP)
    settings = stores.settings
    limits = limits_for(
        client_ip(request),
        user_id,
        group,
        settings.api_rate_ip,
        settings.api_rate_user,
        settings.api_rate_endpoints,
    )
    decision = await stores.limiter.hit(limits, session)
    if decision is None:
        return
    request.state.session_seen = decision.session_open
    request.state.rate_limit_headers = decision.headers()
    if not decision.allowed:
        metrics.API_RATE_LIMITED.labels(decision.scope).inc()
        raise ApiError(
            429,
            f"rate limit exceeded ({decision.limit} requests per {settings.api_rate_window_s} s "
            f"per {decision.scope}); retry later",
            details={"scope": decision.scope, "limit": decision.limit},
        )


def rate_group(group: str) -> dict[str, Any]:
    """``openapi_extra`` putting a route under an endpoint limit (and saying so in OpenAPI)."""
    return {RATE_GROUP: group}
