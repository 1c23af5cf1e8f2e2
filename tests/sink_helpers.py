"""Run sinks in the test process against the real broker and stores; poll with deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import REGISTRY

from marketpulse.settings import Settings
from marketpulse.sinks.base import Sink
from marketpulse.sinks.runner import SinkRunner
from marketpulse.storage.influx import InfluxClient
from marketpulse.streams.admin import ensure_topics
from tests.kafka_helpers import unique


async def sink_settings(base: Settings, **overrides: Any) -> Settings:
    """Settings in a fresh namespace (topics, groups, InfluxDB database), topics created."""
    name = unique("sink")
    values: dict[str, Any] = {
        "topic_prefix": f"{name}.",
        "worker_id": name,
        "influx_database": name.replace("-", "_"),
        "sink_linger_ms": 50,
        "sink_retry_base_ms": 50,
        "sink_retry_max_ms": 500,
        "sink_breaker_failures": 3,
        "sink_breaker_cooldown_ms": 500,
        # The broker holds a new group's first join for about half the session timeout.
        "kafka_session_timeout_s": 2.0,
        **overrides,
    }
    settings = base.model_copy(update=values)
    await ensure_topics(settings)
    async with InfluxClient(settings) as influx:  # so that tests can count before the first write
        await influx.ensure_database()
    return settings


@asynccontextmanager
async def running(sink: Sink[Any], settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    """The sink's runner as a task, cancelled on exit. A crash fails the test at once: the
    test is cancelled where it waits (for a deadline the dead runner would never meet) and
    fails with the runner's exception."""
    test = asyncio.current_task()
    assert test is not None
    task = asyncio.create_task(SinkRunner(sink, settings).run())

    def on_crash(runner: asyncio.Task[None]) -> None:
        if not runner.cancelled() and runner.exception() is not None:
            test.cancel()

    task.add_done_callback(on_crash)
    try:
        yield task
    finally:
        task.remove_done_callback(on_crash)
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise AssertionError(f"the sink crashed: {task.exception()!r}")
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    check: Callable[[Any], bool],
    timeout_s: float = 60.0,
    what: str = "condition",
) -> Any:
    """Poll ``probe`` until ``check`` holds for its value; fail with the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s} s; last value: {value!r}")
        await asyncio.sleep(0.1)


async def metric_reaches(
    name: str, check: Callable[[float], bool], what: str, timeout_s: float = 60.0, **labels: str
) -> float:
    """Poll a Prometheus sample of this process until ``check`` holds."""

    async def sample() -> float:
        return metric(name, **labels)

    value: float = await eventually(sample, check, timeout_s, what)
    return value


def metric(name: str, **labels: str) -> float:
    """A Prometheus sample of this process, 0 when it has not been set."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Outage:
    """A TCP proxy in this process in front of a real store, which a test can cut and mend: the
    store's clients see refused and dropped connections, as in an outage, and nothing else.

    In-process, unlike stopping a store's own server: the mutation tests run these tests under
    a tool that reaps every child process of its own.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = True
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._before_answer: Callable[[], Awaitable[None]] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where the proxy listens."""
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def __aenter__(self) -> Outage:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.cut()
        await self._server.wait_closed()

    def cut(self) -> None:
        """Drop every open connection; refuse new ones until :meth:`mend`."""
        self.up = False
        for writer in list(self._links):
            writer.transport.abort()
        self._links.clear()

    def mend(self) -> None:
        """Forward again."""
        self.up = True

    def hold_next_answer(self, first: Callable[[], Awaitable[None]]) -> None:
        """Await ``first`` when the store next answers, before the answer goes on to its
        client: whatever ``first`` does lands after the store did its work and before the
        client learns that it did."""
        self._before_answer = first

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            store_reader, store_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._links |= {writer, store_writer}
        await asyncio.gather(
            self._pipe(reader, store_writer), self._pipe(store_reader, writer, answers=True),
            return_exceptions=True,
        )  # fmt: skip
        self._links -= {writer, store_writer}

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, answers: bool = False
    ) -> None:
        try:
            while data := await source.read(65536):
                if answers and self._before_answer is not None:
                    first, self._before_answer = self._before_answer, None
                    await first()
                sink.write(data)
                await sink.drain()
        finally:
            sink.transport.abort()
