"""The API's HTTP protocol: a response's header block and body leave in one write, and nothing
is held back longer than the event loop's current pass."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

from marketpulse.api.http_protocol import HeldWrites, HttpProtocol
from marketpulse.api.main import server_options
from marketpulse.settings import Settings
from tests.api_helpers import serve


class Recording:
    """A real socket transport that also records what it is asked to send."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.sends: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sends.append(bytes(data))
        self.transport.write(data)

    def writelines(self, parts: Any) -> None:
        self.sends.append(b"".join(parts))
        self.transport.writelines(parts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def _pair() -> tuple[HeldWrites, Recording, socket.socket]:
    ours, theirs = socket.socketpair()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
    recording = Recording(transport)  # type: ignore[arg-type]
    theirs.setblocking(False)
    return HeldWrites(recording, loop), recording, theirs  # type: ignore[arg-type]


async def _read(sock: socket.socket, size: int) -> bytes:
    loop = asyncio.get_running_loop()
    got = b""
    while len(got) < size:
        got += await asyncio.wait_for(loop.sock_recv(sock, size - len(got)), 5)
    return got


async def test_a_write_and_the_next_are_sent_together() -> None:
    held, recording, peer = await _pair()
    held.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    assert recording.sends == []
    assert held.get_write_buffer_size() == 38
    held.write(b"hello")
    assert recording.sends == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
    assert await _read(peer, 43) == recording.sends[0]
    await asyncio.sleep(0)  # the scheduled flush finds nothing held
    assert len(recording.sends) == 1
    held.close()
    peer.close()


async def test_a_lone_write_leaves_at_the_end_of_the_loops_pass() -> None:
    held, recording, peer = await _pair()
    held.write(b"one")
    await asyncio.sleep(0)
    assert recording.sends == [b"one"]
    held.write(b"two")
    held.write(b"three")
    held.write(b"four")
    await asyncio.sleep(0)
    assert recording.sends == [b"one", b"twothree", b"four"]
    assert await _read(peer, 15) == b"onetwothreefour"
    held.close()
    peer.close()


async def test_close_sends_what_is_held_first() -> None:
    held, recording, peer = await _pair()
    held.write(b"last words")
    held.close()
    assert recording.sends == [b"last words"]
    assert await _read(peer, 10) == b"last words"
    assert held.is_closing()  # the rest is the real transport's
    peer.close()


async def test_writelines_and_write_eof_keep_the_order() -> None:
    held, recording, peer = await _pair()
    held.write(b"close frame")
    held.writelines([b", then", b" more"])
    held.write(b"; last")
    held.write_eof()  # as websockets half-closes after its close frame
    assert recording.sends == [b"close frame, then more", b"; last"]
    assert await _read(peer, 28) == b"close frame, then more; last"
    loop = asyncio.get_running_loop()
    assert await asyncio.wait_for(loop.sock_recv(peer, 10), 5) == b""  # then the EOF
    held.close()
    peer.close()


async def test_what_is_held_is_dropped_when_the_connection_is_gone() -> None:
    held, recording, peer = await _pair()
    held.write(b"never sent")
    recording.transport.abort()  # the peer went away before the end of the loop's pass
    await asyncio.sleep(0)
    held.write(b"nor this")
    held.write(b"nor that")
    assert recording.sends == []
    peer.close()


def _app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/", methods=["GET", "HEAD"])
    async def plain() -> Response:
        return Response(b"plain")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for part in (b"a", b"bb", b"ccc"):
                yield part
                await asyncio.sleep(0.01)

        return StreamingResponse(parts())

    return app


async def test_the_server_answers_plain_head_and_streamed_requests_on_one_connection(
    settings: Settings,
) -> None:
    assert server_options(settings)["http"] is HttpProtocol
    async with serve(settings, _app()) as url:
        reader, writer = await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
        for method, path in (("GET", "/"), ("HEAD", "/"), ("GET", "/stream")):
            writer.write(f"{method} {path} HTTP/1.1\r\nhost: test\r\n\r\n".encode())
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"content-length: 5" in head
            assert await reader.readexactly(5) == b"plain"
            head = await reader.readuntil(b"\r\n\r\n")  # HEAD: headers only
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            assert b"transfer-encoding: chunked" in head
            chunked = b"1\r\na\r\n2\r\nbb\r\n3\r\nccc\r\n0\r\n\r\n"
            assert await reader.readexactly(len(chunked)) == chunked
        writer.close()
