"""The worker's own batches on the real broker: every record reaches its topic and partition in
the order appended, whether its batch went out full, after the linger or before a commit; a
commit's wait returns once every batch was delivered; a record appended after a commit goes out
after a linger of its own; and a hand-over that fails is noted by the delivery guard (no offset
is committed after it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import UnknownTopicOrPartitionError
from aiokafka.structs import ConsumerRecord

from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.batches import Batches
from marketpulse.streams.delivery import DeliveryGuard
from tests.kafka_helpers import consume_until, create_topics, read_to_end, unique

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def producer(services: Settings) -> AsyncIterator[AIOKafkaProducer]:
    kafka_compat.apply(
        fetch_max_wait_ms=services.kafka_fetch_max_wait_ms, tansu=services.kafka_tansu_compat
    )
    # small batches, so that a few records fill one
    made = AIOKafkaProducer(bootstrap_servers=services.bootstrap_servers(), max_batch_size=1024)
    await made.start()
    yield made
    await made.stop()


class Watching(DeliveryGuard):
    """The guard, keeping what it was given to watch: a test sees each batch's delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.watched: list[asyncio.Future[Any]] = []

    def watch(self, sent: Awaitable[Any]) -> None:
        assert isinstance(sent, asyncio.Future)
        self.watched.append(sent)
        super().watch(sent)


def _on_broker(records: list[ConsumerRecord[bytes, bytes]]) -> list[tuple[int, bytes, bytes]]:
    return [(r.partition, r.key, r.value) for r in records]


async def test_every_record_reaches_its_partition_in_order_once_delivered(
    services: Settings, producer: AIOKafkaProducer
) -> None:
    first, second = unique("batches"), unique("batches")
    await create_topics(services, [first, second], 2)
    guard = Watching()
    batches = Batches(lambda: producer, 60.0, guard)  # a linger that never passes here
    sent: dict[str, list[tuple[int, bytes, bytes]]] = {first: [], second: []}
    full = 0
    for i in range(120):
        topic, partition = (first, second)[i % 2], i % 3 % 2
        record = (partition, b"k%d" % i, b"v%d-" % i + b"x" * 40)
        sent[topic].append(record)
        if batches.append(topic, *record):
            full += 1
            await batches.hand_over()  # as a step waits for a full batch's hand-over
    assert full >= 2  # 30 records of about 60 bytes a partition: batches of 1 KiB filled up
    await batches.delivered()
    assert len(guard.watched) >= 4 + full  # a batch per topic and partition, and the full ones
    assert all(sent.done() for sent in guard.watched), "the wait returned before a delivery"
    on_broker = await read_to_end(services, [first, second])
    for topic in (first, second):
        got = _on_broker(on_broker[topic])
        for partition in (0, 1):  # Kafka orders a partition, not a topic
            assert [r for r in got if r[0] == partition] == [
                r for r in sent[topic] if r[0] == partition
            ]
    assert guard.failure is None


async def test_a_record_goes_out_after_the_linger_with_no_commit_and_after_a_commit_too(
    services: Settings, producer: AIOKafkaProducer
) -> None:
    topic = unique("batches")
    await create_topics(services, [topic], 2)
    batches = Batches(lambda: producer, 0.2, DeliveryGuard())
    assert not batches.append(topic, 1, b"alone", b"lingered")
    assert _on_broker(await consume_until(services, [topic], lambda got: len(got) >= 1)) == [
        (1, b"alone", b"lingered")
    ]
    batches.append(topic, 1, b"k", b"before a commit")
    await batches.delivered()  # a commit, before the linger has passed
    batches.append(topic, 1, b"k", b"after it")  # with a linger of its own
    records = await consume_until(services, [topic], lambda got: len(got) >= 3)
    assert [r.value for r in records] == [b"lingered", b"before a commit", b"after it"]


async def test_a_hand_over_that_fails_is_noted_by_the_guard(services: Settings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=services.bootstrap_servers(),
                                request_timeout_ms=2000)  # fmt: skip
    await producer.start()
    try:
        guard = DeliveryGuard()
        batches = Batches(lambda: producer, 0.01, guard)
        batches.append("not a topic!", 0, b"k", b"never sent")  # the broker knows no such name
        deadline = time.monotonic() + 30
        while guard.failure is None:
            assert time.monotonic() < deadline, "the failed hand-over went unnoticed"
            await asyncio.sleep(0.05)
        assert isinstance(guard.failure, UnknownTopicOrPartitionError)
    finally:
        await producer.stop()
