"""The admin's security endpoints: status, configuration, the audit log and role changes."""

from __future__ import annotations

import pytest

from tests.api_helpers import PASSWORD, ApiStack, assert_error, sign_in

pytestmark = [pytest.mark.integration]
SEC = "/api/v1/security"


async def test_status_counts_failed_logins(api: ApiStack) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    before = (await api.client.get(f"{SEC}/status", headers=admin.headers)).json()["data"]
    await api.client.post(
        "/api/v1/auth/login", json={"username": admin.user.username, "password": "wrong-one!"}
    )
    after = (await api.client.get(f"{SEC}/status", headers=admin.headers)).json()["data"]
    assert after["last_hour"]["failed_logins"] == before["last_hour"]["failed_logins"] + 1
    assert after["users"]["admins"] >= 1
    assert after["active_sessions"] >= 1


async def test_config_masks_the_secret_and_shows_the_matrix(api: ApiStack) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    body = (await api.client.get(f"{SEC}/config", headers=admin.headers)).json()["data"]
    assert body["settings"]["jwt_secret"] == "**********"
    assert api.settings.jwt_secret.get_secret_value() not in str(body)
    assert body["tokens"]["algorithm"] == "HS256"
    assert body["permissions"]["storage:write"] == "admin"


async def test_audit_log_filters(api: ApiStack) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    entries = await api.client.get(
        f"{SEC}/audit",
        params={"user_id": str(admin.user.user_id), "action": "auth.login"},
        headers=admin.headers,
    )
    rows = entries.json()["data"]
    assert len(rows) == 1
    assert rows[0]["resource"] == admin.user.username
    assert rows[0]["ip_address"] == "127.0.0.1"


async def test_role_changes_apply_at_once_and_are_audited(api: ApiStack) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    member = await sign_in(api.client, api.pool, "user")
    assert_error(await api.client.get("/api/v1/monitoring/jobs", headers=member.headers), 403)
    changed = await api.client.put(
        f"{SEC}/users/{member.user.user_id}/roles",
        json={"roles": ["analyst"]},
        headers=admin.headers,
    )
    assert changed.json()["data"]["roles"] == ["analyst"]
    # the old token carried the old roles; its session is closed, so sign in again
    assert_error(await api.client.get("/api/v1/auth/me", headers=member.headers), 401)
    login = await api.client.post(
        "/api/v1/auth/login", json={"username": member.user.username, "password": PASSWORD}
    )
    fresh = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
    assert (await api.client.get("/api/v1/monitoring/jobs", headers=fresh)).status_code == 200
    audit = await api.client.get(
        f"{SEC}/audit", params={"action": "security.roles"}, headers=admin.headers
    )
    assert any(e["resource"] == str(member.user.user_id) for e in audit.json()["data"])
    bad = await api.client.put(
        f"{SEC}/users/{member.user.user_id}/roles", json={"roles": ["root"]}, headers=admin.headers
    )
    assert_error(bad, 422)


async def test_an_admin_cannot_take_their_own_admin_role(api: ApiStack) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    response = await api.client.put(
        f"{SEC}/users/{admin.user.user_id}/roles", json={"roles": ["analyst"]},
        headers=admin.headers,
    )  # fmt: skip
    assert_error(response, 409, "OWN_ADMIN_ROLE")
    me = await api.client.get("/api/v1/auth/me", headers=admin.headers)
    assert me.status_code == 200  # the session was not closed
    assert me.json()["data"]["roles"] == ["admin"]
