"""Password guessing and account discovery: the sign-in and registration limits.

Requests name their client address through a trusted proxy (X-Forwarded-For), so a test can be
five attackers at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from marketpulse.settings import Settings
from tests.api_helpers import (
    PASSWORD,
    ApiStack,
    api_settings,
    assert_error,
    client_address,
    serve,
    sign_in,
)
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]
V1 = "/api/v1"
LOCK_AFTER = 3
LOCK_S = 2


@pytest.fixture(scope="module")
async def guarded(api: ApiStack) -> AsyncIterator[tuple[Settings, httpx.AsyncClient]]:
    """An API with tight sign-in limits behind a trusted proxy."""
    settings = api_settings(
        api.settings,
        api_trust_proxy=True,
        api_rate_endpoints={"auth": 3, "register": 2, "indicators": 100, "batch": 100},
        api_login_lock_failures=LOCK_AFTER,
        api_login_lock_s=LOCK_S,
    )
    async with serve(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield settings, client


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def _login(
    client: httpx.AsyncClient, username: str, password: str, address: str
) -> httpx.Response:
    body = {"username": username, "password": password}
    return await client.post(f"{V1}/auth/login", json=body, headers=_from(address))


async def _audited(api: ApiStack, action: str, username: str) -> list[dict[str, Any]]:
    rows = await api.pool.fetch(
        "SELECT user_id, detail, ip_address FROM audit_logs WHERE action = $1 AND resource = $2",
        action,
        username,
    )
    return [dict(row) for row in rows]


async def test_failures_from_many_addresses_lock_the_account_even_for_the_right_password(
    api: ApiStack, guarded: Any
) -> None:
    _settings, client = guarded
    account = await sign_in(api.client, api.pool, "user")
    name = account.user.username
    addresses = [client_address() for _ in range(LOCK_AFTER)]
    for address in addresses:  # one guess from each address: no address limit is reached
        assert_error(await _login(client, name, "a wrong password", address), 401)

    locked = await _login(client, name, PASSWORD, client_address())
    error = assert_error(locked, 429, "ACCOUNT_LOCKED")
    wait = int(locked.headers["retry-after"])
    assert 1 <= wait <= LOCK_S
    assert error["details"] == {"retry_after_s": wait}
    assert "try again in" in error["message"]
    (entry,) = await _audited(api, "auth.locked", name)
    assert entry["user_id"] == account.user.user_id
    assert str(entry["ip_address"]) == addresses[-1]

    deadline = time.monotonic() + 10 * LOCK_S
    while True:  # each poll from another address: none reaches its limit
        opened = await _login(client, name, PASSWORD, client_address())
        if opened.status_code != 429:
            break
        assert opened.json()["error"]["code"] == "ACCOUNT_LOCKED"
        assert time.monotonic() < deadline, "the lock did not expire"
        await asyncio.sleep(0.1)
    assert opened.status_code == 200, opened.text


async def test_a_success_clears_the_count(api: ApiStack, guarded: Any) -> None:
    _settings, client = guarded
    name = (await sign_in(api.client, api.pool, "user")).user.username
    for _round in range(3):
        for _failure in range(LOCK_AFTER - 1):
            assert_error(await _login(client, name, "wrong", client_address()), 401)
        assert (await _login(client, name, PASSWORD, client_address())).status_code == 200
    assert await _audited(api, "auth.locked", name) == []


async def test_a_name_without_an_account_locks_the_same_way(guarded: Any) -> None:
    """The lock says nothing about whether an account exists."""
    _settings, client = guarded
    name = unique("ghost")
    answers = [await _login(client, name, "wrong", client_address()) for _ in range(LOCK_AFTER + 1)]
    assert [r.status_code for r in answers] == [401] * LOCK_AFTER + [429]
    assert answers[-1].json()["error"]["code"] == "ACCOUNT_LOCKED"


async def test_a_token_does_not_move_a_sign_in_to_another_budget(
    api: ApiStack, guarded: Any
) -> None:
    """Sign-ins are limited per address whatever token they carry: each of five users' tokens
    used to open a budget of its own."""
    settings, client = guarded
    tokens = [(await sign_in(api.client, api.pool, "user")).headers for _ in range(5)]
    address = client_address()
    answers = [
        await client.post(
            f"{V1}/auth/login",
            json={"username": unique("nobody"), "password": "wrong"},
            headers={**token, **_from(address)},
        )
        for token in tokens
    ]
    limit = settings.api_rate_endpoints["auth"]
    assert [r.status_code for r in answers] == [401] * limit + [429] * (5 - limit)
    assert answers[-1].json()["error"]["details"] == {"scope": "endpoint", "limit": limit}


async def test_registration_is_limited_per_address_and_says_only_that_a_name_is_taken(
    api: ApiStack, guarded: Any
) -> None:
    settings, client = guarded
    taken = await sign_in(api.client, api.pool, "user")

    def body(name: str, email: str | None = None) -> dict[str, str]:
        return {"username": name, "email": email or f"{name}@example.com", "password": PASSWORD}

    address = client_address()
    same_name = await client.post(
        f"{V1}/auth/register", json=body(taken.user.username, f"{unique('x')}@example.com"),
        headers=_from(address),
    )  # fmt: skip
    same_email = await client.post(
        f"{V1}/auth/register", json=body(unique("r").replace("-", ""), taken.user.email),
        headers=_from(address),
    )  # fmt: skip
    # one answer for both: which of the two is taken is not said
    assert assert_error(same_name, 409) == assert_error(same_email, 409)
    assert (await _audited(api, "auth.register_refused", taken.user.username)) != []

    limit = settings.api_rate_endpoints["register"]
    refused = await client.post(
        f"{V1}/auth/register", json=body(unique("r").replace("-", "")), headers=_from(address)
    )
    assert_error(refused, 429, "RATE_LIMITED")
    assert refused.json()["error"]["details"] == {"scope": "endpoint", "limit": limit}
    elsewhere = await client.post(
        f"{V1}/auth/register",
        json=body(unique("r").replace("-", "")),
        headers=_from(client_address()),
    )
    assert elsewhere.status_code == 201, elsewhere.text
