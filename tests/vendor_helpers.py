"""A local HTTP or WebSocket server standing in for a vendor, answering with the fixtures in
``tests/fixtures/vendors/`` (the vendors' documented formats; see the README there), so the
real clients run against real sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve

from tests.workers import REPO, free_port

FIXTURES = REPO / "tests" / "fixtures" / "vendors"
WsHandler = Callable[[ServerConnection, int], Coroutine[Any, Any, None]]


def fixture(path: str) -> bytes:
    """One fixture's bytes, ``vendor/name``."""
    return (FIXTURES / path).read_bytes()


@dataclass
class Answer:
    """What the fake vendor sends for one request."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeVendor:
    """The requests it got, and how it answers (``answer`` sees each request)."""

    answer: Callable[[web.Request], Answer]
    requests: list[web.Request] = field(default_factory=list)
    url: str = ""


@contextlib.asynccontextmanager
async def fake_vendor(answer: Callable[[web.Request], Answer]) -> AsyncIterator[FakeVendor]:
    """Serve ``answer`` on a loopback port until the block ends."""
    vendor = FakeVendor(answer)

    async def handle(request: web.Request) -> web.Response:
        vendor.requests.append(request)
        reply = vendor.answer(request)
        return web.Response(body=reply.body, status=reply.status, headers=reply.headers,
                            content_type="application/json")  # fmt: skip

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    vendor.url = f"http://127.0.0.1:{port}"
    try:
        yield vendor
    finally:
        await runner.cleanup()


def fixtures_of(vendor: str) -> list[Path]:
    """Every fixture file of a vendor."""
    return sorted((FIXTURES / vendor).iterdir())


@contextlib.asynccontextmanager
async def ws_vendor(handler: WsHandler) -> AsyncIterator[tuple[str, list[str]]]:
    """Serve ``handler(connection, n)`` (n counts connections); yield the URL and what the
    clients sent."""
    received: list[str] = []
    count = [0]

    async def session(ws: ServerConnection) -> None:
        count[0] += 1
        await ws.send(fixture("polygon/ws_connected.json").decode())
        received.append(str(await ws.recv()))  # auth
        await handler(ws, count[0])

    port = free_port()
    async with serve(session, "127.0.0.1", port):
        yield f"ws://127.0.0.1:{port}/stocks", received


async def ws_authenticated(ws: ServerConnection, received: list[str]) -> None:
    """Answer the client's auth with success; keep its subscribe message."""
    await ws.send(fixture("polygon/ws_auth_success.json").decode())
    received.append(str(await ws.recv()))  # subscribe
