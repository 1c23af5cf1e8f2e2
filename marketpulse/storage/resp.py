"""One pipelined Redis connection for the API's per-request commands.

redis-py's asyncio client spends about 100 µs of CPU per command here: a pool checkout under a
lock, a health check, a timeout context, metrics hooks. An API request makes two commands (the
rate-limit script, then its data), so that was a fifth of its CPU. This client writes each
command at once on one shared connection and matches replies to callers in order (Redis answers
in order), which costs about 20 µs a command and batches concurrent requests' commands into
few socket writes. It speaks only what those commands need (RESP2 replies, AUTH and SELECT
from the URL) and raises redis-py's exceptions, so callers handle failures as before.

A lost connection fails the commands in flight with ``ConnectionError``; the next command
reconnects. A command unanswered after ``timeout_s`` closes the connection the same way, so a
stalled Redis cannot hold requests longer than that.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import time
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import unquote, urlparse

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Reply = bytes | int | list[Any] | None  # RESP2: bulk/simple strings, integers, arrays, nil


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[tuple[float, asyncio.Future[Reply]]] = collections.deque()
        self.buffer = b""
        self.outgoing: list[bytes] = []
        self.closed = False
        self.why: Exception = RedisConnectionError("Redis connection closed")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        while self.waiting:
            _sent, future = self.waiting.popleft()
            if not future.done():
                future.set_exception(self.why)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        position = 0
        while position < len(buffer):
            try:
                parsed = _parse(buffer, position)
            except RedisConnectionError as exc:
                self.abort(exc)
                return
            if parsed is None:
                break
            reply, position = parsed
            if not self.waiting:  # a reply nobody asked for: the stream is out of step
                self.abort(RedisConnectionError("Redis sent an unexpected reply"))
                return
            _sent, future = self.waiting.popleft()
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
        self.buffer = buffer[position:]

    def send(self, payload: bytes) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        self.waiting.append((time.monotonic(), future))
        if not self.outgoing:  # one write for everything sent in this turn of the loop
            loop.call_soon(self._flush)
        self.outgoing.append(payload)
        return future

    def _flush(self) -> None:
        payload, self.outgoing = b"".join(self.outgoing), []
        if not self.closed:
            cast(asyncio.Transport, self.transport).write(payload)

    def abort(self, why: Exception) -> None:
        self.why = why
        if self.transport is not None:
            self.transport.abort()


def _parse(buffer: bytes, position: int) -> tuple[Reply | Exception, int] | None:
    """One RESP2 reply starting at ``position``, and where the next starts; None if incomplete."""
    end = buffer.find(b"\r\n", position)
    if end < 0:
        return None
    kind = buffer[position]
    line = buffer[position + 1 : end]
    after = end + 2
    if kind == 0x2B:  # + simple string
        return line, after
    if kind == 0x3A:  # : integer
        return int(line), after
    if kind == 0x24:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            return None
        return buffer[after : after + size], after + size + 2
    if kind == 0x2A:  # * array
        count = int(line)
        if count < 0:
            return None, after
        items: list[Any] = []
        for _ in range(count):
            parsed = _parse(buffer, after)
            if parsed is None:
                return None
            item, after = parsed
            items.append(item)
        return items, after
    if kind == 0x2D:  # - error
        text = line.decode("utf-8", errors="replace")
        return (NoScriptError(text) if text.startswith("NOSCRIPT") else ResponseError(text)), after
    raise RedisConnectionError(f"Redis sent an unknown reply type {chr(kind)!r}")


def _encode(args: tuple[str | bytes | int, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


class PipelinedRedis:
    """See the module docstring."""

    def __init__(self, url: str, timeout_s: float = 2.0) -> None:
        parts = urlparse(url)
        if parts.scheme != "redis":
            raise ValueError(f"only redis:// URLs are supported, not {url!r}")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.password = unquote(parts.password) if parts.password else None
        self.username = unquote(parts.username) if parts.username else None
        self.db = int(parts.path.lstrip("/") or 0)
        self.timeout_s = timeout_s
        self._protocol: _Protocol | None = None
        self._connecting = asyncio.Lock()
        self._watchdog: asyncio.TimerHandle | None = None
        self._shas: dict[str, str] = {}

    async def execute(self, *args: str | bytes | int) -> Reply:
        """Send one command and return its reply; redis-py's exceptions on failure."""
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connect()
        future = protocol.send(_encode(args))
        if self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(self.timeout_s, self._watch)
        return await future

    async def run(
        self, script: str, keys: Sequence[str], args: Sequence[str | bytes | int]
    ) -> Reply:
        """Run a Lua script by its SHA1, loading it first when Redis does not have it (a Redis
        restart or SCRIPT FLUSH forgets scripts)."""
        sha = self._shas.get(script)
        if sha is None:
            sha = self._shas[script] = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324
        try:
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)
        except NoScriptError:
            await self.execute("SCRIPT", "LOAD", script)
            return await self.execute("EVALSHA", sha, len(keys), *keys, *args)

    async def close(self) -> None:
        """Close the connection (commands in flight fail)."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._protocol is not None:
            self._protocol.abort(RedisConnectionError("Redis client closed"))
            self._protocol = None

    async def _connect(self) -> _Protocol:
        async with self._connecting:
            if self._protocol is not None and not self._protocol.closed:
                return self._protocol
            loop = asyncio.get_running_loop()
            try:
                _transport, protocol = await asyncio.wait_for(
                    loop.create_connection(_Protocol, self.host, self.port), self.timeout_s
                )
            except (TimeoutError, OSError) as exc:
                raise RedisConnectionError(f"Redis at {self.host}:{self.port}: {exc}") from exc
            hello: list[tuple[str | bytes | int, ...]] = []
            if self.password is not None:
                auth = (self.username, self.password) if self.username else (self.password,)
                hello.append(("AUTH", *auth))
            if self.db:
                hello.append(("SELECT", self.db))
            for command in hello:
                await asyncio.wait_for(protocol.send(_encode(command)), self.timeout_s)
            self._protocol = protocol
            return protocol

    def _watch(self) -> None:
        """Close a connection whose oldest command has waited longer than the timeout."""
        self._watchdog = None
        protocol = self._protocol
        if protocol is None or protocol.closed or not protocol.waiting:
            return
        oldest = protocol.waiting[0][0]
        waited = time.monotonic() - oldest
        if waited >= self.timeout_s:
            protocol.abort(RedisTimeoutError(f"Redis did not answer within {self.timeout_s} s"))
            return
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_later(self.timeout_s - waited, self._watch)
