"""Produce to and consume from the real broker in tests, polling with deadlines."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.admin import partitions_of


def unique(prefix: str) -> str:
    """A name no other test run has used on this broker."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create_topics(settings: Settings, names: Iterable[str], partitions: int = 1) -> None:
    """Create each topic with ``partitions`` partitions."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


async def produce(
    settings: Settings, topic: str, messages: Iterable[tuple[bytes | None, bytes | None]]
) -> None:
    """Send every (key, value) and wait until the broker has acknowledged them all (a value
    of None is a tombstone, a key of None a record without a key)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value, key=key) for key, value in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def consume_until(
    settings: Settings,
    topics: list[str],
    done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool],
    timeout_s: float = 60.0,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read ``topics`` from the start until ``done(records)`` is true or the deadline passes."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers(),
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        metadata_max_age_ms=1000,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not done(records):
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout_s} s; read {len(records)}")
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def read_to_end(
    settings: Settings, topics: list[str], timeout_s: float = 120.0
) -> dict[str, list[ConsumerRecord[bytes, bytes]]]:
    """Every record on ``topics`` up to their end offsets as of the call, by topic (end offsets
    as corrected for Tansu when the settings say so)."""
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    deadline = time.monotonic() + timeout_s
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers(),
        group_id=None,
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    out: dict[str, list[ConsumerRecord[bytes, bytes]]] = {topic: [] for topic in topics}
    try:
        partitions = await partitions_of(consumer, topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sorted(map(str, remaining))} not read to the end")
            batch = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batch.items():
                out[tp.topic].extend(r for r in records if r.offset < ends[tp])
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return out
