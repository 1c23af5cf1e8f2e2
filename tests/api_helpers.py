"""The API served for real (uvicorn on a loopback port, inside the test's event loop), and
users signed in through it."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import orjson
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from marketpulse.api.main import create_app, server_options
from marketpulse.api.security import hash_password
from marketpulse.settings import Settings
from marketpulse.storage.repositories.users import User, UserRepository
from tests.kafka_helpers import unique
from tests.workers import free_port

PASSWORD = "a long enough password"
SECRET = "test-secret-of-at-least-thirty-two-bytes!"


def client_address() -> str:
    """A client address of its own, for requests through a trusted proxy (X-Forwarded-For):
    the rate limits' windows outlive a test in Redis, so counts must not mix."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"  # noqa: S311


def api_settings(base: Settings, **overrides: Any) -> Settings:
    """Settings for a test API: a real secret, cheap bcrypt, limits out of the way."""
    values: dict[str, Any] = {
        "jwt_secret": SecretStr(SECRET),
        "bcrypt_rounds": 4,
        "api_rate_ip": 100_000,
        "api_rate_user": 100_000,
        "api_rate_endpoints": {
            "auth": 100_000,
            "register": 100_000,
            "indicators": 100_000,
            "batch": 100_000,
        },
        "api_login_lock_failures": 100_000,
    }
    values.update(overrides)
    return base.model_copy(update=values)


@contextlib.asynccontextmanager
async def serve(settings: Settings, app: FastAPI | None = None) -> AsyncIterator[str]:
    """Serve the API on a free port until the block ends; yield its base URL."""
    app = app or create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **server_options(settings)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the API server stopped during startup")
        if time.monotonic() > deadline:
            raise TimeoutError("the API server did not start")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class ApiStack:
    """A served API, its settings, a client on it and a pool on its database."""

    settings: Settings
    client: httpx.AsyncClient
    pool: asyncpg.Pool


@dataclass
class Account:
    """A user and the tokens of a session."""

    user: User
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        """The bearer header."""
        return {"Authorization": f"Bearer {self.access}"}


async def make_user(pool: asyncpg.Pool, *roles: str) -> User:
    """A user with ``roles`` and :data:`PASSWORD`."""
    name = unique("u").replace("-", "")[:40]
    return await UserRepository(pool).create(
        name, f"{name}@example.com", hash_password(PASSWORD, 4), list(roles)
    )


async def sign_in(client: httpx.AsyncClient, pool: asyncpg.Pool, *roles: str) -> Account:
    """A new user with ``roles``, signed in through the API."""
    user = await make_user(pool, *roles)
    response = await client.post(
        "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    return Account(user, data["access_token"], data["refresh_token"])


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the error envelope with this status (and code); return its error."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "metadata"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["metadata"]["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


async def ws_reply(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` on the live feed, skipping others."""
    while True:
        message = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == kind:
            return dict(message)


async def ws_closed(ws: ClientConnection) -> tuple[int, str]:
    """The code and reason the server closes ``ws`` with (skipping what arrives first)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            break
    else:
        raise AssertionError("the server did not close the connection")
    assert frame is not None, "closed without a close frame"
    return frame.code, frame.reason
