"""``/auth``: register, login (password form or JSON, then TOTP if enrolled), refresh, logout,
me, and TOTP enrolment. Every route here is under the ``auth`` endpoint rate limit."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import Request, Response
from pydantic import ValidationError

from marketpulse import metrics
from marketpulse.api import accounts, security, totp
from marketpulse.api.deps import Authenticated, Caller, Public, Stores, rate_group
from marketpulse.api.envelope import respond
from marketpulse.api.errors import ApiError
from marketpulse.api.routers import api_router, conflict
from marketpulse.api.security import AuthError
from marketpulse.schemas.api import (
    CodeRequest,
    Envelope,
    LoginRequest,
    MfaChallenge,
    RefreshRequest,
    RegisterRequest,
    SecondFactorRequest,
    Tokens,
    TotpEnrolment,
    UserOut,
)
from marketpulse.storage.repositories.users import User, UserRepository

router = api_router("/auth", "auth")
LIMITED = rate_group("auth")


@cache
def _dummy_hash(rounds: int) -> str:
    """Checked when the user does not exist, so that a login takes as long either way."""
    return security.hash_password("not a real password", rounds)


_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {"type": "string", "maxLength": 50},
                        "password": {"type": "string", "maxLength": 72},
                        "grant_type": {"type": "string", "enum": ["password"]},
                    },
                }
            },
        },
    }
}


@router.post(
    "/register",
    status_code=201,
    response_model=Envelope[UserOut],
    openapi_extra=rate_group("register"),
    responses=conflict("the username or the email is taken (which is not said)"),
)
async def register(request: Request, body: RegisterRequest, stores: Public) -> Response:
    """Create an account with the ``user`` role."""
    if not stores.settings.api_registration_open:
        raise ApiError(403, "registration is closed; ask an administrator")
    users = UserRepository(stores.pool)
    hashed = await asyncio.to_thread(
        security.hash_password, body.password, stores.settings.bcrypt_rounds
    )
    try:
        user = await users.create(body.username, body.email, hashed, ["user"], body.full_name)
    except asyncpg.UniqueViolationError as exc:
        await accounts.audit(stores, request, "auth.register_refused", None, body.username)
        raise ApiError(409, "username or email is already registered") from exc
    await accounts.audit(stores, request, "auth.register", user.user_id, user.username)
    return respond(request, UserOut.of(user), status_code=201)


async def _credentials(request: Request) -> tuple[LoginRequest, bool]:
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            fields = {k: form.get(k) for k in ("username", "password")}
            return LoginRequest.model_validate(fields), True
        return LoginRequest.model_validate_json(await request.body()), False
    except ValidationError as exc:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        raise ApiError(422, "the request is not valid", details={"errors": problems}) from exc


async def _refuse_if_locked(stores: Stores, username: str) -> None:
    """429 ``ACCOUNT_LOCKED`` while the name is locked (see :mod:`marketpulse.api.lockout`)."""
    left = await stores.lockout.locked_for(username)
    if left:
        metrics.API_AUTH_FAILURES.labels("locked").inc()
        raise ApiError(
            429,
            f"too many failed sign-ins for this account; try again in {left} s",
            code="ACCOUNT_LOCKED",
            details={"retry_after_s": left},
            headers={"Retry-After": str(left)},
        )


async def _count_failure(
    stores: Stores, request: Request, username: str, user_id: UUID | None
) -> None:
    """Count a failed sign-in against the name; audit the lock it may start."""
    if await stores.lockout.failed(username):
        seconds = stores.settings.api_login_lock_s
        await accounts.audit(stores, request, "auth.locked", user_id, username, seconds=seconds)


@router.post(
    "/login",
    response_model=Envelope[Tokens | MfaChallenge],
    openapi_extra={**LIMITED, **_LOGIN_BODY},
    responses={401: {"description": "wrong username or password"}},
)
async def login(request: Request, stores: Public) -> Response:
    """Sign in with a JSON body or an OAuth2 password form. Accounts with TOTP get an
    ``mfa_token`` for /auth/login/2fa instead of tokens. A form login (the OAuth2 password
    grant) also carries ``access_token`` and ``token_type`` at the top level, as RFC 6749 has it."""
    body, form = await _credentials(request)
    await _refuse_if_locked(stores, body.username)
    user = await UserRepository(stores.pool).by_username(body.username)
    rounds = stores.settings.bcrypt_rounds
    stored = user.password_hash if user else await asyncio.to_thread(_dummy_hash, rounds)
    valid = await asyncio.to_thread(security.verify_password, body.password, stored)
    if user is None or not valid or not user.is_active:
        metrics.API_AUTH_FAILURES.labels("password").inc()
        user_id = user.user_id if user else None
        await accounts.audit(stores, request, "auth.login_failed", user_id, body.username)
        await _count_failure(stores, request, body.username, user_id)
        raise AuthError("wrong username or password")
    await stores.lockout.succeeded(body.username)
    if user.totp_enabled:
        secret = stores.settings.jwt_secret.get_secret_value()
        token = security.issue(secret, str(user.user_id), "", "mfa", [], stores.now())
        challenge = MfaChallenge(mfa_token=token, expires_in=int(security.MFA_TTL.total_seconds()))
        return respond(request, challenge)
    tokens = await accounts.open_session(stores, user)
    await accounts.audit(stores, request, "auth.login", user.user_id, user.username)
    oauth2 = {"access_token": tokens.access_token, "token_type": "bearer"} if form else None
    return respond(request, tokens, top_level=oauth2)


@router.post("/login/2fa", response_model=Envelope[Tokens], openapi_extra=LIMITED)
async def login_second_factor(
    request: Request, body: SecondFactorRequest, stores: Public
) -> Response:
    """Finish a login with a TOTP code; each code works once."""
    secret = stores.settings.jwt_secret.get_secret_value()
    claims = security.verify(secret, body.mfa_token, "mfa", stores.now())
    users = UserRepository(stores.pool)
    user = await users.get(UUID(claims.subject))
    if user is None or not user.is_active or not user.totp_enabled or not user.totp_secret:
        raise AuthError("second factor not available for this account")
    await _refuse_if_locked(stores, user.username)
    step = totp.matched_step(user.totp_secret, body.code, stores.now())
    if step is None or not await users.use_totp_step(user.user_id, step):
        metrics.API_AUTH_FAILURES.labels("totp").inc()
        await accounts.audit(stores, request, "auth.totp_failed", user.user_id, user.username)
        await _count_failure(stores, request, user.username, user.user_id)
        raise AuthError("wrong or already used code")
    await stores.lockout.succeeded(user.username)
    tokens = await accounts.open_session(stores, user)
    await accounts.audit(stores, request, "auth.login", user.user_id, user.username, mfa=True)
    return respond(request, tokens)


@router.post("/refresh", response_model=Envelope[Tokens], openapi_extra=LIMITED)
async def refresh(request: Request, body: RefreshRequest, stores: Public) -> Response:
    """New tokens for a refresh token, which is used up: a second use revokes the session."""
    return respond(request, await accounts.rotate(stores, request, body.refresh_token))


@router.post("/logout", response_model=Envelope[dict[str, bool]], openapi_extra=LIMITED)
async def logout(request: Request, caller: Authenticated) -> Response:
    """End this session: its refresh token and access tokens stop working."""
    await accounts.close_session(caller.stores, caller.claims.session)
    await accounts.audit(
        caller.stores, request, "auth.logout", caller.claims.subject, caller.claims.session
    )
    return respond(request, {"logged_out": True})


async def _me(caller: Caller) -> User:
    user = await UserRepository(caller.stores.pool).get(UUID(caller.claims.subject))
    if user is None:
        raise AuthError("the account no longer exists")
    return user


@router.get("/me", response_model=Envelope[UserOut])
async def me(request: Request, caller: Authenticated) -> Response:
    """The signed-in user."""
    return respond(request, UserOut.of(await _me(caller)))


@router.post(
    "/2fa/enroll",
    response_model=Envelope[TotpEnrolment],
    openapi_extra=LIMITED,
    responses=conflict("TOTP is already on"),
)
async def enroll(request: Request, caller: Authenticated) -> Response:
    """Start TOTP enrolment: a new secret, required at login once confirmed."""
    user = await _me(caller)
    if user.totp_enabled:
        raise ApiError(409, "TOTP is already on for this account")
    secret = totp.new_secret()
    await UserRepository(caller.stores.pool).set_totp(user.user_id, secret, enabled=False)
    await accounts.audit(caller.stores, request, "auth.totp_enroll", user.user_id, user.username)
    enrolment = TotpEnrolment(
        secret=secret, otpauth_uri=totp.provisioning_uri(secret, user.username)
    )
    return respond(request, enrolment)


@router.post(
    "/2fa/verify",
    response_model=Envelope[UserOut],
    openapi_extra=LIMITED,
    responses=conflict("no enrolment started"),
)
async def verify_totp(request: Request, body: CodeRequest, caller: Authenticated) -> Response:
    """Confirm enrolment with a code from the app; from then on login asks for one."""
    users = UserRepository(caller.stores.pool)
    user = await _me(caller)
    if user.totp_secret is None:
        raise ApiError(409, "start with /auth/2fa/enroll")
    step = totp.matched_step(user.totp_secret, body.code, caller.stores.now())
    if step is None:
        raise ApiError(400, "wrong code", code="INVALID_CODE")
    await users.set_totp(user.user_id, user.totp_secret, enabled=True)
    await users.use_totp_step(user.user_id, step)
    await accounts.audit(caller.stores, request, "auth.totp_enabled", user.user_id, user.username)
    updated = await _me(caller)
    return respond(request, UserOut.of(updated))
