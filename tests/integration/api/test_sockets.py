"""Open WebSockets follow their session: logout, a role change and the session's expiry close
them; and each user and each address may hold only so many."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import jwt
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect

from marketpulse.api.deps import session_key
from marketpulse.storage.cache import connect as connect_redis
from tests.api_helpers import (
    PASSWORD,
    SECRET,
    Account,
    ApiStack,
    api_settings,
    serve,
    sign_in,
    ws_closed,
    ws_reply,
)

pytestmark = [pytest.mark.integration]
PER_USER = 2
PER_ADDRESS = 3


@pytest.fixture(scope="module")
async def stream(api: ApiStack) -> AsyncIterator[str]:
    """An API that re-checks sessions five times a second, with small connection caps."""
    settings = api_settings(
        api.settings,
        ws_session_check_s=0.2,
        ws_max_per_user=PER_USER,
        ws_max_per_address=PER_ADDRESS,
    )
    async with serve(settings) as url:
        yield url.replace("http://", "ws://") + "/api/v1/stream"


async def _open(stream: str, account: Account) -> ClientConnection:
    ws = await connect(f"{stream}?token={account.access}")
    await ws.send('{"action": "ping"}')
    await ws_reply(ws, "pong")  # admitted and serving
    return ws


async def _alive(ws: ClientConnection) -> bool:
    await ws.send('{"action": "ping"}')
    return (await ws_reply(ws, "pong"))["type"] == "pong"


async def test_logout_closes_the_session_s_sockets_and_no_other(api: ApiStack, stream: str) -> None:
    account = await sign_in(api.client, api.pool, "user")
    other_session = await sign_in(api.client, api.pool, "user")
    async with await _open(stream, account) as ws, await _open(stream, other_session) as other:
        out = await api.client.post("/api/v1/auth/logout", headers=account.headers)
        assert out.status_code == 200
        code, reason = await ws_closed(ws)
        assert (code, reason) == (1008, "the session has ended; sign in again")
        assert await _alive(other)


async def test_a_role_change_closes_the_user_s_sockets(api: ApiStack, stream: str) -> None:
    admin = await sign_in(api.client, api.pool, "admin")
    member = await sign_in(api.client, api.pool, "analyst")
    async with await _open(stream, member) as ws:
        changed = await api.client.put(
            f"/api/v1/security/users/{member.user.user_id}/roles",
            json={"roles": ["user"]},
            headers=admin.headers,
        )
        assert changed.status_code == 200, changed.text
        assert (await ws_closed(ws))[0] == 1008


async def test_an_expired_session_closes_its_sockets(api: ApiStack, stream: str) -> None:
    account = await sign_in(api.client, api.pool, "user")
    async with await _open(stream, account) as ws:
        await _alive(ws)
        # what the session's end does: its row expires and Redis lets its entry go
        await api.pool.execute(
            "UPDATE user_sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1",
            account.user.user_id,
        )
        redis = connect_redis(api.settings.redis_url)
        try:
            session = jwt.decode(account.access, SECRET, algorithms=["HS256"])["sid"]
            await redis.delete(session_key(session))
        finally:
            await redis.aclose()
        assert (await ws_closed(ws))[0] == 1008


async def test_each_user_and_each_address_hold_only_so_many(api: ApiStack, stream: str) -> None:
    first = await sign_in(api.client, api.pool, "user")
    second = await sign_in(api.client, api.pool, "user")
    async with AsyncExitStack() as held:
        for _ in range(PER_USER):
            held.push_async_callback((await _open(stream, first)).close)
        async with connect(f"{stream}?token={first.access}") as refused:
            assert await ws_closed(refused) == (
                1008,
                f"at most {PER_USER} open connections per user",
            )

        # every test client is 127.0.0.1: the address cap is reached before the second's own
        held.push_async_callback((await _open(stream, second)).close)
        async with connect(f"{stream}?token={second.access}") as refused:
            assert await ws_closed(refused) == (
                1008, f"at most {PER_ADDRESS} open connections per address"
            )  # fmt: skip
    # closed sockets are counted out
    async with await _open(stream, first) as again:
        assert await _alive(again)


async def test_a_socket_stays_with_its_user(api: ApiStack, stream: str) -> None:
    owner = await sign_in(api.client, api.pool, "user")
    stranger = await sign_in(api.client, api.pool, "user")
    async with await _open(stream, owner) as ws:
        await ws.send(orjson.dumps({"action": "auth", "token": stranger.access}).decode())
        error = await ws_reply(ws, "error")
        assert (error["code"], error["message"]) == (
            "UNAUTHORIZED", "a connection stays with the user who opened it"
        )  # fmt: skip
        renewed = await _sign_in_again(api, owner)
        await ws.send(orjson.dumps({"action": "auth", "token": renewed}).decode())
        assert (await ws_reply(ws, "authenticated"))["expires"]


async def _sign_in_again(api: ApiStack, account: Account) -> str:
    """A new access token of ``account``'s user, from a session of its own."""
    response = await api.client.post(
        "/api/v1/auth/login", json={"username": account.user.username, "password": PASSWORD}
    )
    return str(response.json()["data"]["access_token"])
