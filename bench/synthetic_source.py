"""How many events per second the synthetic source produces into ``market.raw``.

    .venv/bin/python bench/synthetic_source.py [--events N] [--symbols N] [--frame-size N]
                                               [--workers N]

Runs ``run_synthetic`` as ``marketpulse source synthetic --rate max`` does, on a scratch topic
prefix of the configured broker: generate, serialize, produce and wait for every
acknowledgement; then reads the topic back and the job row to check that every frame
arrived and was counted. A run of a tenth of the events is timed too; the difference of the
two takes out the fixed cost of starting processes and recording the job.
Target (issue 6): 500,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from results import emit
from topics import drop_topics

from marketpulse.settings import Settings
from marketpulse.storage.postgres import create_pool, migrate
from marketpulse.storage.repositories.jobs import JobRepository
from marketpulse.streams.admin import ensure_topics
from marketpulse.streams.sources.synthetic import SyntheticMarket, SyntheticRun, run_synthetic


async def _messages(settings: Settings, topic: str, expected: int) -> int:
    """Count the topic's messages by reading them (Tansu 0.6's ListOffsets undercounts the end
    offset of a partition whose last batch holds several records)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers(), auto_offset_reset="earliest"
    )
    await consumer.start()
    consumer.assign([TopicPartition(topic, p) for p in range(settings.topic_partitions)])
    count, deadline = 0, time.monotonic() + 120
    try:
        while count < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            count += sum(len(records) for records in batch.values())
        return count
    finally:
        await consumer.stop()


async def _timed(settings: Settings, run: SyntheticRun) -> tuple[int, float]:
    """Publish ``run``; check every frame arrived and was counted; return (events, seconds)."""
    started = time.perf_counter()
    published = await run_synthetic(settings, run)
    elapsed = time.perf_counter() - started
    frames = await _messages(settings, settings.topic("market.raw"), published // run.frame_size)
    pool = await create_pool(settings, max_size=1)
    try:
        jobs = await JobRepository(pool).recent(limit=50)
        recorded = next(j for j in jobs if j.symbols == run.symbols)
    finally:
        await pool.close()
    await drop_topics(settings)
    assert frames * run.frame_size == published == recorded.records_processed, (
        frames, published, recorded,
    )  # fmt: skip
    return published, elapsed


async def run(events: int, symbols: int, frame_size: int, workers: int) -> None:
    await migrate(Settings())  # the run is recorded as a job: a fresh database needs the schema
    names = [f"SYN{i:03d}" for i in range(symbols)]
    results = []
    for budget in (events // 10, events):  # the difference takes out process start and setup
        settings = Settings().model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
        job = SyntheticRun(names, seed=1, rate=None, frame_size=frame_size, events=budget,
                           workers=workers)  # fmt: skip
        results.append(await _timed(settings, job))
    (small, small_s), (published, elapsed) = results
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")  # fmt: skip
    print(f"{symbols} symbols, {frame_size} events per frame, {workers} worker processes")
    print(f"published: {published:,} events in {elapsed:.2f} s, {small:,} in {small_s:.2f} s")
    print(f"whole run, with process start: {published / elapsed:>10,.0f} events/s")
    print(f"steady (difference of the two): {(published - small) / (elapsed - small_s):>10,.0f} "
          "events/s")  # fmt: skip
    raw = await raw_produce(names, events // 4, frame_size)
    print(f"raw aiokafka produce of the same frames, one process: {raw:>10,.0f} events/s")
    emit(RAW, raw, "events/s")
    steady = (published - small) / (elapsed - small_s)
    emit("synthetic source, steady", steady, "events/s", 500_000, baseline=RAW)
    emit("synthetic source, whole run with process start", published / elapsed, "events/s")


RAW = "raw aiokafka produce of pre-built frames, one process"


async def raw_produce(names: list[str], events: int, frame_size: int) -> float:
    """The baseline: frames built beforehand, sent by a bare producer configured like ours."""
    settings = Settings().model_copy(update={"topic_prefix": f"bench{uuid.uuid4().hex[:6]}."})
    await ensure_topics(settings)
    market = SyntheticMarket(names, seed=1)
    rounds = max(1, events // (frame_size * len(names)))
    bodies = [
        (name, market.frame_bytes(name, r * 10**9, (r + 1) * 10**9, frame_size))
        for r in range(rounds)
        for name in names
    ]
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers(),
        linger_ms=5,
        max_batch_size=1 << 20,
        max_request_size=8 << 20,
    )
    topic = settings.topic("market.raw")
    await producer.start()
    try:
        started = time.perf_counter()
        pending = [await producer.send(topic, body, name.encode()) for name, body in bodies]
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
        await drop_topics(settings)
    return len(bodies) * frame_size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=4_000_000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--frame-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.symbols, args.frame_size, args.workers))


if __name__ == "__main__":
    main()
