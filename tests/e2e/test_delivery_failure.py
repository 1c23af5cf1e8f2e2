"""A record the worker fails to deliver stops the worker before it commits the offsets of the
input behind it, so the next worker replays that input and nothing is lost.

The test's own broker is paused (SIGSTOP) while the worker is sending, and kept paused until the
worker's producer reports sends that expired (``MARKETPULSE_KAFKA_PRODUCER_TIMEOUT_S``); then
it resumes. Faust alone would log those failures and commit past them.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from marketpulse.clock import SystemClock
from marketpulse.services.tansu_server import Tansu
from marketpulse.settings import Settings
from marketpulse.streams.delivery import DeliveryGuard
from marketpulse.streams.sources.synthetic import SyntheticMarket
from tests.e2e.pipeline import Pipeline, S
from tests.kafka_helpers import consume_until, produce, unique
from tests.sink_helpers import eventually
from tests.workers import free_port

pytestmark = [pytest.mark.e2e]

FRAMES = 1500
SYMBOLS = ["DLA", "DLB", "DLC"]


@pytest.fixture
def broker(settings: Settings, tmp_path: Path) -> Iterator[Tansu]:
    """A broker of the test's own, which it may pause."""
    own = settings.model_copy(
        update={"data_dir": tmp_path / "own", "kafka_broker": f"kafka://127.0.0.1:{free_port()}"}
    )
    server = Tansu(own)
    server.ensure_up()
    yield server
    pid = server.process.pid()
    if pid is not None:
        os.kill(pid, signal.SIGCONT)
    server.stop()


def _frames() -> list[tuple[bytes, bytes]]:
    market = SyntheticMarket(SYMBOLS, seed=7)
    start = (SystemClock().now_ns() // S - 3600) * S
    out = []
    for i in range(FRAMES):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        frame = market.frame(symbol, start + i * S, start + (i + 1) * S, 200)
        out.append(
            (
                symbol.encode(),
                frame.model_copy(update={"received_ts": i}).model_dump_json().encode(),
            )
        )
    return out


async def test_an_undelivered_record_is_never_committed_past(broker: Tansu, tmp_path: Path) -> None:
    pipeline = Pipeline(
        broker.settings,
        tmp_path,
        MARKETPULSE_KAFKA_BROKER=broker.settings.kafka_broker,
        MARKETPULSE_KAFKA_PRODUCER_TIMEOUT_S="2",
        MARKETPULSE_TOPIC_PARTITIONS="1",
        MARKETPULSE_GRANULARITIES='["1m"]',
        MARKETPULSE_INDICATORS='["sma_3"]',
    )
    try:
        first = pipeline.start_worker()
        await produce(pipeline.settings, pipeline.prefix + "market.raw", _frames())
        await pipeline.read("market.clean", 1)
        pid = broker.process.pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            first.wait_for_log("was not delivered")
        finally:
            os.kill(pid, signal.SIGCONT)
        assert first.proc.wait(90) != 0  # it stopped by itself, failing

        pipeline.start_worker()
        records = await consume_until(
            pipeline.settings,
            [pipeline.prefix + "market.clean"],
            lambda rs: len({orjson.loads(r.value)["received_ts"] for r in rs}) >= FRAMES,
            timeout_s=120,
        )
        assert {orjson.loads(r.value)["received_ts"] for r in records} == set(range(FRAMES))
    finally:
        pipeline.stop()


async def test_the_guard_notes_a_send_whose_future_fails(broker: Tansu) -> None:
    """The path the agents' own sends take: accepted by the producer, failed later."""
    servers, topic = broker.settings.bootstrap_servers(), unique("guard")
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=servers, request_timeout_ms=1000)
    await producer.start()
    guard = DeliveryGuard()
    pid = broker.process.pid()
    assert pid is not None
    try:
        await (await producer.send(topic, b"delivered", key=b"k"))
        os.kill(pid, signal.SIGSTOP)
        try:
            sent = await producer.send(topic, b"lost", key=b"k")  # taken, not yet delivered
            assert guard.failure is None
            guard.watch(sent)

            async def failure() -> BaseException | None:
                return guard.failure

            await eventually(failure, lambda exc: exc is not None, what="the failed send noted")
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        await producer.stop()
    assert isinstance(guard.failure, KafkaError)
