"""The Faust floor's worker sends what the engine gave each frame, every record on its topic and
partition, and nothing else: its CPU per frame is then Faust's and aiokafka's part of a worker
that sends the same records."""

from __future__ import annotations

import asyncio
import pickle
import time
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from marketpulse.clock import SystemClock
from marketpulse.settings import Settings
from marketpulse.streams.sources.synthetic import SyntheticMarket
from tests.bench_scripts import load
from tests.kafka_helpers import unique
from tests.workers import free_port

Record = tuple[str, int, bytes | None, bytes]


async def _read(settings: Settings, topics: set[str], count: int) -> Counter[Record]:
    """What ``topics`` hold, once they hold ``count`` records (or a minute has passed)."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=settings.bootstrap_servers(),
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    found: Counter[Record] = Counter()
    deadline = time.monotonic() + 60
    try:
        while found.total() < count and time.monotonic() < deadline:
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                for r in batch:
                    found[(tp.topic, tp.partition, r.key, r.value)] += 1
    finally:
        await consumer.stop()
    return found


async def test_the_floor_worker_sends_the_engines_records(
    services: Settings, tmp_path: Path
) -> None:
    faust_floor, pipeline, bench_topics = load("faust_floor"), load("pipeline"), load("topics")
    prefix = f"{unique('benchfloor')}."
    settings = services.model_copy(
        update={"topic_prefix": prefix, "worker_id": prefix + "w", "granularities": ["1s"]}
    )
    market = SyntheticMarket(["A", "B", "C"], seed=2)
    start = (SystemClock().now_ns() // pipeline.S - 7200) * pipeline.S
    backlog = pipeline.frames(market, start, 4, 50)
    records = faust_floor.on_topics(settings, faust_floor.engine_records(settings, backlog))
    expected = Counter(r for per_key in records.values() for frame in per_key for r in frame)
    # every frame closes a bar after the first second: bars, snapshots and the clean frames
    assert len({topic for topic, *_ in expected}) >= 3
    assert sum(len(per_key) for per_key in records.values()) == len(backlog)
    path = tmp_path / "records.pickle"
    path.write_bytes(pickle.dumps(records))
    async with bench_topics.own_topics(settings):
        await pipeline.produce(settings, backlog)
        worker = await asyncio.to_thread(
            pipeline.start_worker,
            pipeline.worker_env(settings, free_port()),
            tmp_path / "worker.log",
            (*faust_floor.FLOOR, str(path), "50"),
        )
        try:
            found = await _read(settings, {topic for topic, *_ in expected}, expected.total())
        finally:
            worker.terminate()
            worker.wait(30)
    assert found == expected  # a record more, or one on another partition, takes one's place
