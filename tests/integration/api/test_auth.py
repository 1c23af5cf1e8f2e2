"""Sign-up, sign-in (JSON, OAuth2 form, TOTP), refresh rotation with reuse detection, sign-out,
and the audit trail, through HTTP against the real stores."""

from __future__ import annotations

import datetime as dt

import jwt
import pyotp
import pytest

from marketpulse.api.deps import session_key
from marketpulse.storage import cache
from marketpulse.storage.repositories.audit import AuditRepository
from marketpulse.storage.repositories.users import SessionRepository
from tests.api_helpers import PASSWORD, ApiStack, assert_error, make_user, sign_in
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]
AUTH = "/api/v1/auth"


async def test_register_then_sign_in_and_see_yourself(api: ApiStack) -> None:
    name = unique("reg").replace("-", "")
    body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    created = await api.client.post(f"{AUTH}/register", json=body)
    assert created.status_code == 201
    user = created.json()["data"]
    assert user["roles"] == ["user"]
    assert "password_hash" not in user
    assert "totp_secret" not in user

    again = await api.client.post(f"{AUTH}/register", json=body)
    assert_error(again, 409, "CONFLICT")

    login = await api.client.post(f"{AUTH}/login", json={"username": name, "password": PASSWORD})
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    tokens = login.json()["data"]
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    me = await api.client.get(
        f"{AUTH}/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["data"]["username"] == name


async def test_register_refuses_weak_or_malformed_input_without_echoing_it(api: ApiStack) -> None:
    bad = {"username": "x", "email": "not-an-email", "password": "Xq7#pw"}
    error = assert_error(await api.client.post(f"{AUTH}/register", json=bad), 422)
    fields = {tuple(e["loc"])[-1] for e in error["details"]["errors"]}
    assert fields == {"username", "email", "password"}
    assert "Xq7#pw" not in str(error)  # the submitted password is never echoed
    multibyte = {"username": "mbyte", "email": "m@example.com", "password": "é" * 40}
    too_long = assert_error(await api.client.post(f"{AUTH}/register", json=multibyte), 422)
    assert "72 bytes" in too_long["details"]["errors"][0]["msg"]  # 40 characters, 80 bytes


async def test_oauth2_form_login_answers_the_standard_token_response(api: ApiStack) -> None:
    user = await make_user(api.pool, "user")
    response = await api.client.post(
        f"{AUTH}/login",
        data={"username": user.username, "password": PASSWORD, "grant_type": "password"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"] == body["data"]["access_token"]


async def test_wrong_password_is_401_and_audited(api: ApiStack) -> None:
    user = await make_user(api.pool, "user")
    response = await api.client.post(
        f"{AUTH}/login", json={"username": user.username, "password": "wrong password!"}
    )
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"
    unknown = await api.client.post(
        f"{AUTH}/login", json={"username": "nobody-at-all", "password": "whatever1"}
    )
    assert_error(unknown, 401)
    assert unknown.json()["error"]["message"] == response.json()["error"]["message"]
    entries = await AuditRepository(api.pool).recent(user.user_id, "auth.login_failed")
    assert entries
    assert entries[0].request_id == response.headers["x-request-id"]


async def test_refresh_rotates_and_a_reused_token_revokes_the_session(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    first = await api.client.post(f"{AUTH}/refresh", json={"refresh_token": account.refresh})
    assert first.status_code == 200
    rotated = first.json()["data"]
    assert rotated["refresh_token"] != account.refresh
    new_headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await api.client.get(f"{AUTH}/me", headers=new_headers)).status_code == 200

    reuse = await api.client.post(f"{AUTH}/refresh", json={"refresh_token": account.refresh})
    assert "already used" in assert_error(reuse, 401)["message"]
    # the whole session is gone: the new access token and the new refresh token too
    assert_error(await api.client.get(f"{AUTH}/me", headers=new_headers), 401)
    assert_error(await api.client.get(f"{AUTH}/me", headers=account.headers), 401)
    later = await api.client.post(
        f"{AUTH}/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert_error(later, 401)
    assert await AuditRepository(api.pool).recent(account.user.user_id, "auth.refresh_reuse")


async def test_logout_ends_the_session_at_once(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    other = await api.client.post(
        f"{AUTH}/login", json={"username": account.user.username, "password": PASSWORD}
    )
    other_headers = {"Authorization": f"Bearer {other.json()['data']['access_token']}"}
    out = await api.client.post(f"{AUTH}/logout", headers=account.headers)
    assert out.status_code == 200
    assert_error(await api.client.get(f"{AUTH}/me", headers=account.headers), 401)
    refresh = await api.client.post(f"{AUTH}/refresh", json={"refresh_token": account.refresh})
    assert_error(refresh, 401)
    # another session of the same user is untouched
    assert (await api.client.get(f"{AUTH}/me", headers=other_headers)).status_code == 200


async def test_sessions_are_restored_from_postgres_when_redis_forgets_them(
    api: ApiStack,
) -> None:
    account = await sign_in(api.client, api.pool, "user")
    session = jwt.decode(account.access, options={"verify_signature": False})["sid"]
    client = cache.connect(api.settings.redis_url)
    await client.delete(session_key(session))
    assert (await api.client.get(f"{AUTH}/me", headers=account.headers)).status_code == 200
    # restored with the session's user and that user's roles
    assert await client.get(session_key(session)) == f"{account.user.user_id}|user".encode()
    # an entry in an older form (the user alone) is rebuilt the same way
    await client.set(session_key(session), str(account.user.user_id))
    assert (await api.client.get(f"{AUTH}/me", headers=account.headers)).status_code == 200
    assert await client.get(session_key(session)) == f"{account.user.user_id}|user".encode()
    await api.client.post(f"{AUTH}/logout", headers=account.headers)
    assert await client.exists(session_key(session)) == 0
    assert await SessionRepository(api.pool).open_sessions(account.user.user_id) == []
    await client.aclose()
    assert_error(await api.client.get(f"{AUTH}/me", headers=account.headers), 401)


async def test_totp_enrolment_and_two_step_login(api: ApiStack) -> None:
    account = await sign_in(api.client, api.pool, "user")
    enrolled = await api.client.post(f"{AUTH}/2fa/enroll", headers=account.headers)
    assert enrolled.status_code == 200
    secret = enrolled.json()["data"]["secret"]
    assert enrolled.json()["data"]["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)

    wrong = await api.client.post(
        f"{AUTH}/2fa/verify", json={"code": "000000"}, headers=account.headers
    )
    if totp.now() != "000000":
        assert_error(wrong, 400, "INVALID_CODE")
    verified = await api.client.post(
        f"{AUTH}/2fa/verify", json={"code": totp.at(now)}, headers=account.headers
    )
    assert verified.json()["data"]["totp_enabled"] is True

    first = await api.client.post(
        f"{AUTH}/login", json={"username": account.user.username, "password": PASSWORD}
    )
    challenge = first.json()["data"]
    assert challenge["mfa_required"] is True
    assert "access_token" not in challenge
    # the challenge token is no access token
    assert_error(
        await api.client.get(
            f"{AUTH}/me", headers={"Authorization": f"Bearer {challenge['mfa_token']}"}
        ),
        401,
    )
    # the enrolment code was used; the next step's code signs in once
    code = totp.at(now + dt.timedelta(seconds=30))
    step = {"mfa_token": challenge["mfa_token"], "code": code}
    second = await api.client.post(f"{AUTH}/login/2fa", json=step)
    assert second.status_code == 200, second.text
    assert second.json()["data"]["access_token"]
    replay = await api.client.post(f"{AUTH}/login/2fa", json=step)
    assert "already used" in assert_error(replay, 401)["message"]


async def test_registration_can_be_closed(services_api_closed: str) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=services_api_closed) as client:
        body = {"username": "closedreg", "email": "c@example.com", "password": PASSWORD}
        assert_error(await client.post(f"{AUTH}/register", json=body), 403, "FORBIDDEN")
