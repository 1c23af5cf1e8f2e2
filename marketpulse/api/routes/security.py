"""``/security`` (admin only): status, effective configuration, the audit log, user roles."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query, Request, Response

from marketpulse.api import accounts, security
from marketpulse.api.deps import Caller, SignedIn
from marketpulse.api.envelope import respond
from marketpulse.api.errors import ApiError, not_found
from marketpulse.api.params import limit_param
from marketpulse.api.routers import NOT_FOUND, api_router, conflict
from marketpulse.schemas.api import Envelope, RolesUpdate, UserOut
from marketpulse.storage.repositories.audit import AuditEntry, AuditRepository
from marketpulse.storage.repositories.users import LastAdmin, SessionRepository, UserRepository

router = api_router("/security", "security")
Admin = Annotated[Caller, Depends(SignedIn("security:read"))]
UserAdmin = Annotated[Caller, Depends(SignedIn("users:admin"))]
_SHOWN = (
    "env", "api_trust_proxy", "api_cors_origins", "api_max_body_bytes", "api_rate_window_s",
    "api_rate_ip", "api_rate_user", "api_rate_endpoints", "api_registration_open", "jwt_secret",
)  # fmt: skip


@router.get("/status", response_model=Envelope[dict[str, Any]])
async def status(request: Request, caller: Admin) -> Response:
    """Users, open sessions, and failed sign-ins over the last hour."""
    since = caller.stores.now() - dt.timedelta(hours=1)
    audit = AuditRepository(caller.stores.pool)
    failed = await audit.recent(action="auth.login_failed", since=since, limit=10_000)
    reused = await audit.recent(action="auth.refresh_reuse", since=since, limit=10_000)
    body = {
        "users": await UserRepository(caller.stores.pool).counts(),
        "active_sessions": await SessionRepository(caller.stores.pool).count_active(
            caller.stores.now()
        ),
        "last_hour": {"failed_logins": len(failed), "refresh_token_reuse": len(reused)},
    }
    return respond(request, body)


@router.get("/config", response_model=Envelope[dict[str, Any]])
async def config(request: Request, caller: Admin) -> Response:
    """The security-relevant settings (secrets masked), token lifetimes and the role matrix."""
    masked = caller.stores.settings.masked()
    body = {
        "settings": {name: masked[name] for name in _SHOWN},
        "tokens": {
            "algorithm": security.ALGORITHM,
            "access_ttl_s": int(security.ACCESS_TTL.total_seconds()),
            "refresh_ttl_s": int(security.REFRESH_TTL.total_seconds()),
            "mfa_ttl_s": int(security.MFA_TTL.total_seconds()),
        },
        "permissions": {action: str(role) for action, role in security.PERMISSIONS.items()},
    }
    return respond(request, body)


@router.get("/audit", response_model=Envelope[list[AuditEntry]])
async def audit(
    request: Request,
    caller: Admin,
    user_id: UUID | None = None,
    action: Annotated[str | None, Query(max_length=100, pattern=r"^[a-z_.]+$")] = None,
    since: dt.datetime | None = None,
    limit: Annotated[int, limit_param(1000)] = 100,
) -> Response:
    """Audit entries, newest first, by user, action and time."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    entries = await AuditRepository(caller.stores.pool).recent(user_id, action, since, limit)
    return respond(request, entries)


@router.put(
    "/users/{user_id}/roles",
    response_model=Envelope[UserOut],
    responses={
        **NOT_FOUND,
        **conflict(
            "OWN_ADMIN_ROLE: an admin dropping their own admin role; LAST_ADMIN: the last "
            "active admin losing it"
        ),
    },
)
async def set_roles(
    request: Request, user_id: UUID, body: RolesUpdate, caller: UserAdmin
) -> Response:
    """Give a user roles. Their open sessions are closed, so the new roles apply at once. An
    admin cannot take their own admin role (another admin can), and the last active admin
    keeps it: either would leave the system without anyone to manage it (409)."""
    roles: list[str] = sorted(set(body.roles))
    if str(user_id) == caller.claims.subject and "admin" not in roles:
        raise ApiError(409, "an admin cannot take their own admin role; ask another admin",
                       code="OWN_ADMIN_ROLE")  # fmt: skip
    try:
        user = await UserRepository(caller.stores.pool).set_roles(user_id, roles)
    except LastAdmin as exc:
        raise ApiError(409, str(exc), code="LAST_ADMIN") from None
    if user is None:
        raise not_found("user", user_id=str(user_id))
    for session in await SessionRepository(caller.stores.pool).open_sessions(user_id):
        await accounts.close_session(caller.stores, str(session))
    await accounts.audit(
        caller.stores, request, "security.roles", caller.claims.subject, str(user_id), roles=roles
    )
    return respond(request, UserOut.of(user))
