"""A table's store reads its changelog partitions in bulk when they are assigned, on the real
broker: each key's last record (a tombstone removes it), only the active partitions asked for
(not the standbys), what the worker's producer still held, and the last offset read as the
store's persisted offset, from which Faust's own recovery goes on; the read is logged and
counted. A read that fails, or that the broker does not answer in time, leaves the partitions
to Faust's recovery."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from faust.types import TP
from prometheus_client import REGISTRY

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
    (0, None, b"no key"),  # no key's state: left out
    (1, b"d", b"d1"),
    (1, None, b"no key either"),
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
    assert (found.records, found.keyless) == (8 + MANY, 2)
    assert found.last == {asked[0]: 5, asked[1]: MANY + 1}
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


RECOVERED = "marketpulse_state_recovered_records_total"


def _store(app: faust.App, partitions: int) -> tuple[Any, str]:
    """A bytes table's store, and its changelog's name."""
    table = bytes_table(app, "state", partitions)
    return table.data, table.changelog_topic.get_topic_name()


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the store logged."""
    return [r.getMessage() for r in caplog.records if r.name == "marketpulse.tables.store"]


async def test_an_assignment_reads_the_active_partitions_and_faust_goes_on_from_there(
    app: faust.App, services: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    store, changelog = _store(app, 4)
    assert isinstance(store, BulkRecoveryStore)
    await _fill(services, changelog, 4, RECORDS)
    tps = {TP(changelog, p) for p in (0, 1, 3)}
    store.data[b"e"] = b"held"  # held from before, in a partition not given this time
    store.data[b"c"], store._key_partition[b"c"] = b"stale", 0  # held, and deleted since
    assert store.persisted_offset(TP(changelog, 0)) is None  # nothing read yet
    counted = REGISTRY.get_sample_value(RECOVERED, {"table": store.table_name}) or 0.0
    began = time.perf_counter()
    with caplog.at_level(logging.INFO, logger="marketpulse.tables.store"):
        await store.on_rebalance(tps | {TP("another-topic", 0)}, set(), tps)
    took = time.perf_counter() - began
    assert (store[b"a"], store[b"d"], store[b"many7"]) == (b"a2", b"d1", b"%d" % (MANY - 93))
    assert b"c" not in store
    assert b"c" not in store._key_partition
    assert REGISTRY.get_sample_value(RECOVERED, {"table": store.table_name}) == counted + 8 + MANY
    reading, keyless, read = _logged(caplog)
    assert reading == f"{store.table_name}: reading 3 changelog partitions"
    assert (
        keyless == f"{store.table_name}: 2 changelog records with no key left out (no key's state)"
    )
    done = re.fullmatch(rf"{store.table_name}: read {8 + MANY} records of 3 changelog "
                        r"partitions in (\d+\.\d\d) s", read)  # fmt: skip
    assert done is not None, read
    assert float(done[1]) <= took + 0.005
    assert store.persisted_offset(TP(changelog, 0)) == 5
    assert store.persisted_offset(TP(changelog, 1)) == MANY + 1
    assert store.persisted_offset(TP(changelog, 3)) is None  # empty: Faust reads it as it is
    # the memory store forgets keys of partitions no longer assigned once recovery completes
    store._key_partition[b"e"] = 2
    await store.on_recovery_completed(tps, set())
    assert b"e" not in store
    assert store[b"a"] == b"a2"

    # the next assignment reads again and forgets the offsets of partitions it no longer has
    await store.on_rebalance({TP(changelog, 0)}, tps - {TP(changelog, 0)}, set())
    assert store.persisted_offset(TP(changelog, 0)) == 5
    assert store.persisted_offset(TP(changelog, 1)) is None


async def test_standbys_are_left_to_faust_and_the_producers_records_are_read_too(
    services: Settings,
) -> None:
    # the producer holds a record for 3 s (its linger), far longer than the read takes
    app = faust.App(unique("bulk-store"), broker=services.kafka_broker, store="memory://",
                    topic_partitions=2, producer_linger=3.0)  # fmt: skip
    store, changelog = _store(app, 2)
    await _fill(services, changelog, 2, [(0, b"a", b"a1"), (1, b"s", b"s1")])
    await app.producer.start()
    try:
        held = await app.producer.send(changelog, b"b", b"b1", partition=0, timestamp=None,
                                       headers=None)  # fmt: skip
        app.assignor._assignment.standbys = {changelog: [1]}
        tps = {TP(changelog, 0), TP(changelog, 1)}
        await store.on_rebalance(tps, set(), tps)
        assert held.done()  # delivered before the read
        assert (store[b"a"], store[b"b"]) == (b"a1", b"b1")
        assert b"s" not in store  # a standby's records come from Faust, as they grow
        assert store.persisted_offset(TP(changelog, 0)) == 1
        assert store.persisted_offset(TP(changelog, 1)) is None
    finally:
        await app.producer.stop()


async def test_a_broker_url_without_a_port_is_on_kafkas_own(services: Settings) -> None:
    if not services.kafka_broker.endswith(":9092"):
        pytest.skip("the broker is not on Kafka's default port")
    app = faust.App(unique("bulk-store"), broker=services.kafka_broker.removesuffix(":9092"),
                    store="memory://")  # fmt: skip
    store, changelog = _store(app, 1)
    await _fill(services, changelog, 1, [(0, b"a", b"a1")])
    await store.on_rebalance({TP(changelog, 0)}, set(), {TP(changelog, 0)})
    assert store[b"a"] == b"a1"


async def test_a_failed_read_leaves_the_partitions_to_faust(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # nothing listens on port 9
    app = faust.App(unique("bulk-store"), broker="kafka://127.0.0.1:9", store="memory://")
    store, changelog = _store(app, 2)
    with caplog.at_level(logging.WARNING, logger="marketpulse.tables.store"):
        await store.on_rebalance({TP(changelog, 0)}, set(), {TP(changelog, 0)})
    assert store.persisted_offset(TP(changelog, 0)) is None
    assert len(store) == 0
    (warning,) = _logged(caplog)
    assert warning.startswith(
        f"{store.table_name}: reading 1 changelog partitions failed (KafkaConnectionError("
    )
    assert warning.endswith("); Faust's recovery reads them instead")


async def test_a_read_the_broker_does_not_answer_is_given_up_in_time() -> None:
    # a server that takes connections and never answers: the read waits the broker's request
    # timeout, not aiokafka's own (40 s)
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        app = faust.App(unique("bulk-store"), broker=f"kafka://127.0.0.1:{port}",
                        store="memory://", broker_request_timeout=1.0)  # fmt: skip
        store, changelog = _store(app, 1)
        await asyncio.wait_for(
            store.on_rebalance({TP(changelog, 0)}, set(), {TP(changelog, 0)}), 20
        )
        assert store.persisted_offset(TP(changelog, 0)) is None
    finally:
        server.close()


async def test_a_read_goes_to_the_servers_it_is_given(services: Settings) -> None:
    topic = unique("bulk-read")
    await _fill(services, topic, 1, [(0, b"a", b"a1")])
    with pytest.raises(KafkaConnectionError):
        await read_partitions("127.0.0.1:9", [TopicPartition(topic, 0)], "test-bulk")


def test_a_store_holds_raw_bytes_only(app: faust.App) -> None:
    table = app.Table("json-state", default=None, store=URL)
    with pytest.raises(TypeError, match="raw bytes only"):
        table.data  # noqa: B018 (the store is made on first use)
