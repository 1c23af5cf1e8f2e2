"""A table's store reads its changelog partitions in bulk when they are assigned, on the real
broker: each key's last record (a tombstone removes it), only the active partitions asked for,
and the last offset read as the store's persisted offset, from which Faust's own recovery goes
on. A read that fails leaves the partitions to Faust's recovery."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from faust.types import TP

from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.codecs import bytes_table
from marketpulse.tables.store import URL, BulkRecoveryStore, read_partitions
from tests.kafka_helpers import create_topics, unique

pytestmark = [pytest.mark.integration]

MANY = 12_500  # more than one fetch hands back


async def _fill(settings: Settings, topic: str, partitions: int,
                records: list[tuple[int, bytes, bytes | None]]) -> None:  # fmt: skip
    """Create ``topic`` and put each (partition, key, value) on it, in order."""
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    await create_topics(settings, [topic], partitions)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers(), linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key, partition=p) for p, key, value in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


RECORDS = [
    (0, b"a", b"a1"),
    (0, b"b", b"b1"),
    (0, b"a", b"a2"),
    (0, b"c", b"c1"),
    (0, b"c", None),  # a tombstone: c is gone
    (1, b"d", b"d1"),
    (2, b"e", b"e1"),  # a partition not asked for
    *((1, b"many%d" % (i % 100), b"%d" % i) for i in range(MANY)),
]


async def test_a_read_folds_the_partitions_asked_for_into_each_keys_last_value(
    services: Settings,
) -> None:
    topic = unique("bulk-read")
    await _fill(services, topic, 4, RECORDS)
    asked = [TopicPartition(topic, p) for p in (0, 1, 3)]  # 3 is empty
    found = await asyncio.wait_for(
        read_partitions(services.bootstrap_servers(), asked, "test-bulk"), 60
    )
    assert found.records == 6 + MANY
    assert found.last == {asked[0]: 4, asked[1]: MANY}
    expected: dict[bytes, tuple[int, bytes | None]] = {
        b"a": (0, b"a2"), b"b": (0, b"b1"), b"c": (0, None), b"d": (1, b"d1")
    }  # fmt: skip
    expected |= {b"many%d" % (i % 100): (1, b"%d" % i) for i in range(MANY - 100, MANY)}
    assert found.values == expected


@pytest.fixture
def app(services: Settings) -> faust.App:
    kafka_compat.apply(
        fetch_max_wait_ms=services.kafka_fetch_max_wait_ms, tansu=services.kafka_tansu_compat
    )
    return faust.App(unique("bulk-store"), broker=services.kafka_broker, store="memory://",
                    topic_partitions=4, broker_request_timeout=30)  # fmt: skip


async def test_an_assignment_reads_the_active_partitions_and_faust_goes_on_from_there(
    app: faust.App, services: Settings
) -> None:
    table = bytes_table(app, "state", 4)
    store: Any = table.data
    assert isinstance(store, BulkRecoveryStore)
    changelog = table.changelog_topic.get_topic_name()
    await _fill(services, changelog, 4, RECORDS)
    tps = {TP(changelog, p) for p in (0, 1, 3)}
    store.data[b"e"] = b"held"  # held from before, in a partition not given this time
    await store.on_rebalance(tps | {TP("another-topic", 0)}, set(), tps)
    assert (store[b"a"], store[b"d"], store[b"many7"]) == (b"a2", b"d1", b"%d" % (MANY - 93))
    assert b"c" not in store
    assert store.persisted_offset(TP(changelog, 0)) == 4
    assert store.persisted_offset(TP(changelog, 1)) == MANY
    assert store.persisted_offset(TP(changelog, 3)) is None  # empty: Faust reads it as it is
    # the memory store forgets keys of partitions no longer assigned once recovery completes
    store._key_partition[b"e"] = 2
    await store.on_recovery_completed(tps, set())
    assert b"e" not in store
    assert store[b"a"] == b"a2"

    # the next assignment reads again and forgets the offsets of partitions it no longer has
    await store.on_rebalance({TP(changelog, 0)}, tps - {TP(changelog, 0)}, set())
    assert store.persisted_offset(TP(changelog, 0)) == 4
    assert store.persisted_offset(TP(changelog, 1)) is None


async def test_a_failed_read_leaves_the_partitions_to_faust() -> None:
    # nothing listens on port 9
    app = faust.App(unique("bulk-store"), broker="kafka://127.0.0.1:9", store="memory://")
    table = bytes_table(app, "state", 2)
    store: Any = table.data
    changelog = table.changelog_topic.get_topic_name()
    await store.on_rebalance({TP(changelog, 0)}, set(), {TP(changelog, 0)})
    assert store.persisted_offset(TP(changelog, 0)) is None
    assert len(store) == 0


def test_a_store_holds_raw_bytes_only(app: faust.App) -> None:
    table = app.Table("json-state", default=None, store=URL)
    with pytest.raises(TypeError, match="raw bytes only"):
        table.data  # noqa: B018 (the store is made on first use)
