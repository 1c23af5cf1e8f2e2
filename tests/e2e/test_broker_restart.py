"""The local broker restarts: Tansu keeps everything in memory, so every topic, offset and
changelog is gone. The worker must reconnect and carry on with the data that comes after.
(A durable Kafka keeps its logs and committed offsets on disk: see docs/operations.md.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from marketpulse.clock import SystemClock
from marketpulse.schemas.events import Frame, Trade
from marketpulse.services.tansu_server import Tansu
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import publish
from tests.e2e.pipeline import Pipeline, S, decoded, one_partition
from tests.kafka_helpers import consume_until

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["5s"]', '["sma_3"]') as p:
        yield p


def _trades(symbol: str, start: int, seconds: int) -> list[tuple[int, str, Frame]]:
    """A trade every second from ``start``, one frame each."""
    records = []
    for i in range(seconds):
        ts = start + i * S
        trade = Trade(symbol=symbol, ts=ts, price=100 + i % 5, size=1)
        records.append((ts, symbol, Frame(source="test", received_ts=ts, events=[trade])))
    return records


async def test_the_worker_carries_on_after_the_memory_broker_restarts(
    services: Settings, pipeline: Pipeline
) -> None:
    broker = Tansu(services)
    worker = pipeline.start_worker()
    now = SystemClock().now_ns() // (60 * S) * (60 * S)  # bars of 5 s line up with it
    await publish(pipeline.settings, _trades("BRK", now - 120 * S, 30))
    before = decoded(await pipeline.read("market.bars.5s", 5))
    assert all(int(str(b["start"])) < now - 90 * S for b in before)

    if not broker.stop():
        pytest.skip("the broker was not started by marketpulse, so it is not ours to restart")
    assert not broker.healthy()
    await asyncio.to_thread(broker.ensure_up)

    # Everything is gone: the topics come back empty, and the worker has lost its group.
    await publish(pipeline.settings, _trades("BRK", now - 60 * S, 30))
    fresh = now - 60 * S

    def new_starts(records: list[ConsumerRecord[bytes, bytes]]) -> list[int]:
        return sorted(s for b in decoded(records) if (s := int(str(b["start"]))) >= fresh)

    topic = pipeline.prefix + "market.bars.5s"
    after = await consume_until(
        pipeline.settings, [topic], lambda rs: len(new_starts(rs)) >= 5, timeout_s=120
    )
    assert new_starts(after)[:5] == [fresh + i * 5 * S for i in range(5)]
    # the tables still held the old log's states, which would have skipped the new records
    assert "bar-state: its changelog is empty but" in worker.log()
    assert worker.proc.poll() is None, worker.log()[-3000:]
