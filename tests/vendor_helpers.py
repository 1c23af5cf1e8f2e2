"""A local HTTP server standing in for a vendor: it serves the recorded payloads in
``../shared/vendor-samples/`` (read at run time, never copied here) so the real clients run."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve

from tests.workers import REPO, free_port

SAMPLES = REPO.parent / "shared" / "vendor-samples"
POLYGON = "polygon"
WsHandler = Callable[[ServerConnection, int], Coroutine[Any, Any, None]]


def sample(path: str) -> bytes:
    """One recorded payload's bytes."""
    return (SAMPLES / path).read_bytes()


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


def samples_in(folder: str) -> list[Path]:
    """Every sample file of a vendor folder."""
    return sorted((SAMPLES / folder).iterdir())


def ws_array(name: str) -> bytes:
    """A spec example is one event; on the wire events come in arrays."""
    return orjson.dumps([orjson.loads(sample(f"{POLYGON}/{name}"))])


@contextlib.asynccontextmanager
async def ws_vendor(handler: WsHandler) -> AsyncIterator[tuple[str, list[str]]]:
    """Serve ``handler(connection, n)`` (n counts connections); yield the URL and what the
    clients sent."""
    received: list[str] = []
    count = [0]

    async def session(ws: ServerConnection) -> None:
        count[0] += 1
        connected = sample(f"{POLYGON}/ws_status_connected__client-python_mock_server.json")
        await ws.send(connected.decode())
        received.append(str(await ws.recv()))  # auth
        await handler(ws, count[0])

    port = free_port()
    async with serve(session, "127.0.0.1", port):
        yield f"ws://127.0.0.1:{port}/stocks", received


async def ws_authenticated(ws: ServerConnection, received: list[str]) -> None:
    """Answer the client's auth with the recorded success; keep its subscribe message."""
    success = sample(f"{POLYGON}/ws_status_auth_success__client-python_mock_server.json")
    await ws.send(success.decode())
    received.append(str(await ws.recv()))  # subscribe
