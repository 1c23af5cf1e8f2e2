"""The broker adjustments at the protocol level, against the real local broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]


@pytest.fixture
def compat(services: Settings) -> Iterator[None]:
    """Install the Tansu adjustments for one test, then restore what the settings say."""
    kafka_compat.apply(fetch_max_wait_ms=50, tansu=True)
    yield
    kafka_compat.apply(
        fetch_max_wait_ms=services.kafka_fetch_max_wait_ms, tansu=services.kafka_tansu_compat
    )


async def _end_offset(settings: Settings, tp: TopicPartition) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers())
    await consumer.start()
    try:
        offsets = await consumer.end_offsets([tp])
        return int(offsets[tp])
    finally:
        await consumer.stop()


async def _produce_batches(settings: Settings, topic: str, sizes: list[int]) -> None:
    """Produce one record batch of each size to partition 0 (linger packs each into one)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), linger_ms=100)
    await producer.start()
    try:
        for size in sizes:
            futures = [await producer.send(topic, b"x", partition=0) for _ in range(size)]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


@pytest.mark.usefixtures("compat")
async def test_end_offsets_are_the_high_watermark(services: Settings) -> None:
    topic = unique("compat.eo")
    await _produce_batches(services, topic, [10, 5])
    assert await _end_offset(services, TopicPartition(topic, 0)) == 15


@pytest.mark.usefixtures("compat")
async def test_correct_end_offsets_are_left_alone(services: Settings) -> None:
    """Single-record batches: the broker's answer is already right, as real Kafka's always is."""
    topic = unique("compat.single")
    await _produce_batches(services, topic, [1, 1, 1])
    assert await _end_offset(services, TopicPartition(topic, 0)) == 3


@pytest.mark.usefixtures("compat")
async def test_empty_partition_end_offset_is_zero(services: Settings) -> None:
    topic = unique("compat.empty")
    await _produce_batches(services, topic, [1])
    assert await _end_offset(services, TopicPartition(topic, 1)) == 0


@pytest.mark.usefixtures("compat")
async def test_idempotent_producer_works(services: Settings) -> None:
    topic = unique("compat.idem")
    producer = AIOKafkaProducer(
        bootstrap_servers=services.bootstrap_servers(), enable_idempotence=True
    )
    await producer.start()
    try:
        sent = [await producer.send_and_wait(topic, b"v%d" % i, key=b"k") for i in range(5)]
    finally:
        await producer.stop()
    assert [m.offset for m in sent] == [0, 1, 2, 3, 4]


async def test_without_the_adjustment_tansu_still_rejects_init_producer_id_v0(
    services: Settings,
) -> None:
    """A canary: when this fails, Tansu has fixed v0 and the adjustment can go."""
    kafka_compat.apply(fetch_max_wait_ms=50, tansu=False)
    producer = AIOKafkaProducer(
        bootstrap_servers=services.bootstrap_servers(),
        enable_idempotence=True,
        request_timeout_ms=5000,
    )
    try:
        with pytest.raises(KafkaError):  # start() asks for a producer id
            await producer.start()
    finally:
        await producer.stop()
        kafka_compat.apply(
            fetch_max_wait_ms=services.kafka_fetch_max_wait_ms,
            tansu=services.kafka_tansu_compat,
        )
