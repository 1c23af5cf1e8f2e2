"""A local HTTP server standing in for a vendor: it serves the recorded payloads in
``../shared/vendor-samples/`` (read at run time, never copied here) so the real clients run."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from tests.workers import REPO, free_port

SAMPLES = REPO.parent / "shared" / "vendor-samples"


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
