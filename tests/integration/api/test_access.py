"""Who may do what, over HTTP: forged and misused tokens are 401, and the role matrix of
``PERMISSIONS`` holds on every protected endpoint."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from typing import Any

import httpx
import jwt
import pytest

from marketpulse.api import security
from marketpulse.api.security import PERMISSIONS, Role, allowed
from tests.api_helpers import SECRET, Account, ApiStack, assert_error, sign_in

pytestmark = [pytest.mark.integration]
ME = "/api/v1/auth/me"

# (method, path, body, the action it needs)
PROTECTED: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/v1/market-data/AAPL/quote", None, "market_data:read"),
    ("GET", "/api/v1/market-data/AAPL/daily", None, "market_data:read"),
    ("GET", "/api/v1/market-data/search?q=apple", None, "market_data:read"),
    ("GET", "/api/v1/market-data/live", None, "market_data:read"),
    ("POST", "/api/v1/market-data/batch", {"symbols": ["AAPL"]}, "market_data:read"),
    ("GET", "/api/v1/signals/AAPL", None, "signals:read"),
    ("GET", "/api/v1/indicators/AAPL/rsi", None, "indicators:read"),
    ("GET", "/api/v1/indicators/AAPL/rsi?params=9", None, "indicators:compute"),
    ("GET", "/api/v1/monitoring/jobs", None, "jobs:read"),
    ("GET", "/api/v1/storage/health", None, "storage:read"),
    ("GET", "/api/v1/storage/stats", None, "storage:read"),
    ("GET", "/api/v1/storage/retention", None, "storage:read"),
    ("PUT", "/api/v1/storage/retention/no_such_policy", {"duration": "30d"}, "storage:write"),
    ("GET", "/api/v1/security/status", None, "security:read"),
    ("GET", "/api/v1/security/config", None, "security:read"),
    ("GET", "/api/v1/security/audit", None, "security:read"),
    ("PUT", f"/api/v1/security/users/{uuid.uuid4()}/roles", {"roles": ["user"]}, "users:admin"),
]


def test_the_matrix_covers_every_action() -> None:
    assert {action for *_, action in PROTECTED} == set(PERMISSIONS)


async def _call(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: Any
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_gets_exactly_its_permissions(api: ApiStack, role: Role) -> None:
    account = await sign_in(api.client, api.pool, role.value)
    for method, path, body, action in PROTECTED:
        response = await _call(api.client, method, path, body, account.headers)
        if allowed([role.value], action):
            assert response.status_code not in (401, 403), (role, path, response.text)
            assert response.status_code < 500, (role, path, response.text)
        else:
            error = assert_error(response, 403, "FORBIDDEN")
            assert error["details"]["action"] == action, path


async def test_every_protected_endpoint_wants_a_token(api: ApiStack) -> None:
    for method, path, body, _action in PROTECTED:
        response = await _call(api.client, method, path, body, {})
        assert_error(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"


def _claims(account: Account, **changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": str(account.user.user_id),
        "sid": jwt.decode(account.access, SECRET, algorithms=["HS256"])["sid"],
        "typ": "access",
        "roles": ["admin"],
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    claims.update(changes)
    return claims


async def test_forged_and_misused_tokens_are_refused(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    now = dt.datetime.now(dt.UTC)
    unsigned = jwt.encode(_claims(account), key=None, algorithm="none")
    forged = {
        "alg none": unsigned,
        "alg none, empty signature kept": unsigned.rstrip(".") + ".",
        "wrong key": jwt.encode(_claims(account), "another-secret-of-at-least-32-bytes!!", "HS256"),
        "HS512 with the right key": _hs512(_claims(account)),
        "expired": jwt.encode(_claims(account, exp=now - dt.timedelta(seconds=1)), SECRET, "HS256"),
        "refresh token as access": account.refresh,
        "mfa token as access": security.issue(
            SECRET, str(account.user.user_id), "", "mfa", [], now
        ),
        "no session claim": jwt.encode(
            {k: v for k, v in _claims(account).items() if k != "sid"}, SECRET, "HS256"
        ),
        "unknown session": jwt.encode(_claims(account, sid=str(uuid.uuid4())), SECRET, "HS256"),
        "tampered payload": _tamper(account.access),
        "subject not a user id": jwt.encode(_claims(account, sub="admin"), SECRET, "HS256"),
        "expiry not a time": jwt.encode(_claims(account, exp="tomorrow"), SECRET, "HS256"),
        "roles not a list": jwt.encode(_claims(account, roles="admin"), SECRET, "HS256"),
        "garbage": "not.a.token",
    }
    for name, token in forged.items():
        response = await api.client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "UNAUTHORIZED")
        assert response.status_code == 401, name
    # and the genuine token still works
    assert (await api.client.get(ME, headers=account.headers)).status_code == 200


async def test_a_session_is_its_users_and_its_roles_are_the_servers(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    other = await sign_in(api.client, api.pool, "admin")
    others_session = jwt.decode(other.access, SECRET, algorithms=["HS256"])["sid"]
    # well signed (a leaked key, or a bug in an issuer), but the session is someone else's
    borrowed = jwt.encode(_claims(account, sid=others_session), SECRET, "HS256")
    response = await api.client.get(ME, headers={"Authorization": f"Bearer {borrowed}"})
    assert_error(response, 401, "UNAUTHORIZED")
    # the user's own session, but the token claims admin: the session's roles decide
    promoted = jwt.encode(_claims(account, roles=["admin"]), SECRET, "HS256")
    headers = {"Authorization": f"Bearer {promoted}"}
    assert (await api.client.get(ME, headers=headers)).status_code == 200
    error = assert_error(await api.client.get("/api/v1/security/status", headers=headers), 403)
    assert error["details"]["roles"] == ["user"]
    # and the same on the cached path: an answer linked for an analyst is not served to it
    analyst = await sign_in(api.client, api.pool, "analyst")
    computed = "/api/v1/indicators/AAPL/rsi?params=9"
    await api.client.get(computed, headers=analyst.headers)
    assert_error(await api.client.get(computed, headers=headers), 403)


async def test_an_access_token_is_no_refresh_token(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": account.access})
    assert "refresh token is needed" in assert_error(response, 401)["message"]


def _tamper(token: str) -> str:
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["roles"] = ["admin"]
    forged_payload = jwt.encode(claims, "x" * 32, "HS256").split(".")[1]
    return f"{header}.{forged_payload}.{signature}"


def _hs512(claims: dict[str, Any]) -> str:
    """A token signed with our secret but another algorithm (PyJWT warns: the key is short for
    HS512, which is beside the point here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, SECRET, algorithm="HS512")
