"""Sessions and the audit trail: sign-in, refresh-token rotation with reuse detection, sign-out.

A session is a row in ``user_sessions`` holding the hash of its one current refresh token, and a
Redis key ``session:{id}`` that access-token checks look at. Each refresh replaces the token
(compare-and-set on the hash); presenting a token that was already replaced means it leaked, so
the whole session is revoked and its access tokens stop working at once. Two refreshes racing
with the same token count as a reuse too: clients must refresh one at a time.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from fastapi import Request
from redis.exceptions import RedisError

from marketpulse import metrics
from marketpulse.api import security
from marketpulse.api.deps import Stores, client_ip, session_entry, session_key
from marketpulse.api.envelope import request_id
from marketpulse.api.security import AuthError
from marketpulse.schemas.api import Tokens
from marketpulse.storage.repositories.audit import AuditRepository
from marketpulse.storage.repositories.users import SessionRepository, User, UserRepository


async def audit(
    stores: Stores,
    request: Request,
    action: str,
    user_id: UUID | str | None = None,
    resource: str | None = None,
    **detail: Any,
) -> None:
    """Append to the audit log, with the client's address and the request id."""
    await AuditRepository(stores.pool).record(
        action,
        user_id=UUID(str(user_id)) if user_id else None,
        resource=resource,
        detail=detail,
        ip_address=client_ip(request) if request.client else None,
        request_id=request_id(request),
    )


def _issue_pair(stores: Stores, user: User, session: str) -> tuple[Tokens, str]:
    secret = stores.settings.jwt_secret.get_secret_value()
    now = stores.now()
    subject = str(user.user_id)
    access = security.issue(secret, subject, session, "access", user.roles, now)
    refresh = security.issue(secret, subject, session, "refresh", user.roles, now)
    expires_in = int(security.ACCESS_TTL.total_seconds())
    return Tokens(access_token=access, refresh_token=refresh, expires_in=expires_in), refresh


async def _cache_session(stores: Stores, session: str, user: User) -> None:
    try:
        ttl = int(security.REFRESH_TTL.total_seconds())
        await stores.redis.set(
            session_key(session), session_entry(user.user_id, user.roles), ex=ttl
        )
    except (RedisError, OSError):
        pass  # checks fall back to PostgreSQL


async def open_session(stores: Stores, user: User) -> Tokens:
    """Start a session for a signed-in user."""
    session = uuid.uuid4()
    tokens, refresh = _issue_pair(stores, user, str(session))
    expires = stores.now() + security.REFRESH_TTL
    await SessionRepository(stores.pool).create(
        session, user.user_id, security.token_digest(refresh), expires
    )
    await _cache_session(stores, str(session), user)
    return tokens


async def close_session(stores: Stores, session: str) -> bool:
    """Revoke a session: its refresh token and every access token issued in it."""
    try:
        await stores.redis.delete(session_key(session))
    except (RedisError, OSError):
        pass  # the PostgreSQL record decides when Redis has no entry
    return await SessionRepository(stores.pool).revoke(UUID(session))


async def rotate(stores: Stores, request: Request, refresh_token: str) -> Tokens:
    """Exchange a refresh token for a new pair; a reused token revokes the session."""
    secret = stores.settings.jwt_secret.get_secret_value()
    claims = security.verify(secret, refresh_token, "refresh", stores.now())
    user = await UserRepository(stores.pool).get(UUID(claims.subject))
    if user is None or not user.is_active:
        await close_session(stores, claims.session)
        raise AuthError("the account is disabled")
    tokens, refresh = _issue_pair(stores, user, claims.session)
    rotated = await SessionRepository(stores.pool).rotate(
        UUID(claims.session),
        security.token_digest(refresh_token),
        security.token_digest(refresh),
        stores.now() + security.REFRESH_TTL,
    )
    if not rotated:
        if await close_session(stores, claims.session):
            metrics.API_AUTH_FAILURES.labels("refresh_reuse").inc()
            await audit(stores, request, "auth.refresh_reuse", user.user_id, claims.session)
            raise AuthError("this refresh token was already used; the session is revoked")
        raise AuthError("the session has ended; sign in again")
    return tokens
