"""Slow and idle clients against the real server: every stage of a request has a deadline, a
WebSocket is not held to them, and the server takes only so many connections at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect

from tests.api_helpers import ApiStack, api_settings, serve, sign_in, ws_reply

pytestmark = [pytest.mark.integration]
DEADLINE_S = 0.5
LIVE = b"GET /api/v1/monitoring/live HTTP/1.1\r\nHost: test\r\n\r\n"


@pytest.fixture(scope="module")
async def strict(api: ApiStack) -> AsyncIterator[tuple[str, int]]:
    """An API whose clients have half a second for a request's headers, and for its body."""
    settings = api_settings(
        api.settings, api_header_timeout_s=DEADLINE_S, api_body_timeout_s=DEADLINE_S
    )
    async with serve(settings) as url:
        yield _address(url)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 0


async def _answer(address: tuple[str, int], *parts: bytes) -> tuple[bytes, float]:
    """Send ``parts`` and read until the server closes; what came back and how long it took."""
    started = time.monotonic()  # before the connection: the server's clock starts at accept
    reader, writer = await asyncio.open_connection(*address)
    try:
        for part in parts:
            writer.write(part)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 20)  # up to the server's close
    finally:
        writer.close()
    return answer, time.monotonic() - started


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param([], id="idle"),
        pytest.param([b"GET /api/v1/monitoring/li"], id="partial request line"),
        pytest.param(
            [b"GET /api/v1/monitoring/live HTTP/1.1\r\nHost: test\r\n"], id="no blank line"
        ),
        pytest.param(
            [
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\ncontent-type: application/json"
                b'\r\ncontent-length: 100\r\n\r\n{"username"'
            ],
            id="short body",
        ),
        pytest.param([LIVE, b"GET /api/v1/monitoring/li"], id="slow second request"),
    ],
)
async def test_a_request_that_does_not_arrive_in_time_gets_408_and_is_closed(
    strict: tuple[str, int], sent: list[bytes]
) -> None:
    answer, took = await _answer(strict, *sent)
    assert answer.endswith(
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: 33\r\nconnection: close\r\n\r\nthe request took too long to send"
    ), answer
    assert answer.count(b"HTTP/1.1 200") == sent.count(LIVE)
    assert took >= DEADLINE_S


async def test_a_request_sent_in_pieces_within_the_deadline_is_served(
    strict: tuple[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(*strict)
    try:
        for piece in (LIVE[:10], LIVE[10:30], LIVE[30:]):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(DEADLINE_S / 5)  # the pace is what is tested
        status = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status == b"HTTP/1.1 200 OK\r\n"


async def test_a_websocket_outlives_the_request_deadlines(
    api: ApiStack, strict: tuple[str, int]
) -> None:
    account = await sign_in(api.client, api.pool, "user")
    host, port = strict
    async with connect(f"ws://{host}:{port}/api/v1/stream?token={account.access}") as ws:
        await asyncio.sleep(3 * DEADLINE_S)  # past both deadlines: the duration is what is tested
        await ws.send('{"action": "ping"}')
        assert (await ws_reply(ws, "pong"))["type"] == "pong"


async def test_past_the_connection_limit_requests_get_503(api: ApiStack) -> None:
    limit = 4
    settings = api_settings(api.settings, api_max_connections=limit)
    async with serve(settings) as url, AsyncExitStack() as idle:
        address = _address(url)
        for _ in range(limit - 1):
            _reader, writer = await asyncio.open_connection(*address)
            idle.callback(writer.close)
        answer, _took = await _answer(
            address, LIVE.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n")
        )
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable"), answer
        await idle.aclose()
        deadline = time.monotonic() + 10
        while True:  # the server sees the idle connections go
            answer, _took = await _answer(
                address, LIVE.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n")
            )
            if answer.startswith(b"HTTP/1.1 200") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert answer.startswith(b"HTTP/1.1 200"), answer
