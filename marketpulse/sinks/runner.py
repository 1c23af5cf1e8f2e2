"""The loop every sink runs: read a batch, write it, and only then commit its offsets.

Each sink is its own consumer group, so an outage of one store holds back only that sink: the
analytics topics, their other consumers and the other stores carry on. A durable sink retries a
failed write with exponential backoff behind a circuit breaker and reads nothing more meanwhile
(back-pressure); when the store comes back, the same batch is written and committed. A store
that *refuses* data (InfluxDB's 4xx, a PostgreSQL data error) is not retried: the batch is split
in halves until the refused records are found, and those are dead-lettered with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition

from marketpulse.errors import StoreError
from marketpulse.metrics import (
    DEADLETTERS,
    SINK_CIRCUIT_OPEN,
    SINK_ERRORS,
    SINK_POINTS,
    SINK_RECORDS,
)
from marketpulse.policy import Backoff, CircuitBreaker
from marketpulse.schemas.events import TOMBSTONE, DeadLetter
from marketpulse.settings import Settings
from marketpulse.sinks.base import Sink
from marketpulse.streams.topics import DEADLETTER

T = TypeVar("T")
log = logging.getLogger(__name__)

Record: TypeAlias = ConsumerRecord[bytes, bytes]

SINK_FETCH_MIN_BYTES = 64 << 10
SINK_FETCH_MAX_WAIT_MS = 500  # bounds how long a stop waits for a fetch in flight


def consumer_options(settings: Settings) -> dict[str, Any]:
    """How a sink reads: offsets committed by hand, only after their batch is stored; a new group
    from the earliest record kept; heartbeats a third of the session timeout apart (at most
    3 s); and topics created after the start found within seconds.

    A fetch waits for ``SINK_FETCH_MIN_BYTES`` or the sink's linger (at most
    ``SINK_FETCH_MAX_WAIT_MS``), whichever comes first: the sink holds a batch that long anyway,
    and fewer, fuller fetches cost the broker less (on Tansu a fetch that returns records costs
    in proportion to the batches its partition holds)."""
    session_s = settings.kafka_session_timeout_s
    return {
        "bootstrap_servers": settings.bootstrap_servers(),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_wait_ms": max(
            settings.kafka_fetch_max_wait_ms, min(settings.sink_linger_ms, SINK_FETCH_MAX_WAIT_MS)
        ),
        "fetch_min_bytes": SINK_FETCH_MIN_BYTES,
        "session_timeout_ms": int(session_s * 1000),
        "heartbeat_interval_ms": int(min(3.0, session_s / 3) * 1000),
        "metadata_max_age_ms": 5000,
    }


def producer_options(settings: Settings) -> dict[str, Any]:
    """How a sink sends its dead letters: acknowledged by every in-sync replica (a letter is the
    only copy of what the store refused once the batch is committed), as large as a record may
    be."""
    return {
        "bootstrap_servers": settings.bootstrap_servers(),
        "acks": "all",
        "max_request_size": settings.kafka_max_message_bytes,
    }


@dataclass(frozen=True)
class Decoded(Generic[T]):
    """One record and the items it holds."""

    record: Record
    items: Sequence[T]


class SinkRunner(Generic[T]):
    """Consume a sink's topics and store them, committing after each stored batch."""

    _producer: AIOKafkaProducer  # the dead letters' producer, made by run()

    def __init__(self, sink: Sink[T], settings: Settings) -> None:
        self.sink = sink
        self.settings = settings
        self.group_id = settings.sink_group(sink.name)
        self.backoff = Backoff(
            settings.sink_retry_base_ms / 1000, settings.sink_retry_max_ms / 1000
        )
        self.breaker = CircuitBreaker(
            settings.sink_breaker_failures, settings.sink_breaker_cooldown_ms / 1000
        )
        self.name = sink.name
        # the breaker starts closed, and the gauge says so from the start: a sink that never
        # failed has its series at 0, and one made again in the same process does not show
        # the open circuit of the one before
        SINK_CIRCUIT_OPEN.labels(sink=self.name).set(0)

    async def run(self) -> None:
        """Run until cancelled."""
        consumer = AIOKafkaConsumer(
            *self.sink.topics(),
            group_id=self.group_id,
            client_id=f"marketpulse-sink-{self.name}",
            **consumer_options(self.settings),
        )
        producer = self._producer = AIOKafkaProducer(**producer_options(self.settings))
        await self.sink.start()
        try:
            await producer.start()
            await consumer.start()
            log.info("sink %s: reading %s", self.name, ", ".join(self.sink.topics()))
            while True:
                batch = await self._collect(consumer)
                if batch:
                    await self._deliver(batch)
                    await self._commit(consumer, batch)
        finally:
            await consumer.stop()
            await producer.stop()
            await self.sink.close()

    async def _collect(self, consumer: AIOKafkaConsumer) -> list[Decoded[T]]:
        """Records until the batch holds ``sink_batch_size`` items or ``sink_linger_ms`` has
        passed since its first record; malformed records are dead-lettered on the way. A fetch
        asks for no more records than items are still wanted: a batch passes the size only by
        what records of several items (indicator snapshots) hold beyond one each."""
        batch: list[Decoded[T]] = []
        items = 0
        deadline: float | None = None
        while items < self.settings.sink_batch_size:
            wait_s = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            fetched = await consumer.getmany(
                timeout_ms=int(wait_s * 1000), max_records=self.settings.sink_batch_size - items
            )
            for records in fetched.values():
                for record in records:
                    decoded = await self._decode(record)
                    batch.append(decoded)
                    items += len(decoded.items)
            if deadline is None:
                if not batch:
                    break
                deadline = time.monotonic() + self.settings.sink_linger_ms / 1000
            elif time.monotonic() >= deadline:
                break
        return batch

    async def _decode(self, record: Record) -> Decoded[T]:
        if record.value is None:
            await self._dead_letter(record, "malformed", TOMBSTONE)
            return Decoded(record, ())
        try:
            return Decoded(record, self.sink.decode(record.topic, record.value))
        except ValueError as exc:
            await self._dead_letter(record, "malformed", str(exc).splitlines()[0])
            return Decoded(record, ())

    async def _deliver(self, batch: list[Decoded[T]]) -> None:
        """Write the batch's items. A durable sink waits out the open circuit and retries with
        backoff until the store takes them; a best-effort one tries once and skips the batch
        when that fails or the circuit is open. Refused records are found and dead-lettered by
        either."""
        items = [item for decoded in batch for item in decoded.items]
        if not items:
            return
        durable = self.sink.durable
        while True:
            now = time.monotonic()
            if not self.breaker.allows(now):
                if not durable:
                    SINK_ERRORS.labels(sink=self.name, kind="skipped").inc()
                    return
                await asyncio.sleep(self.breaker.retry_at() - now)
            try:
                written = await self.sink.write(items)
            except StoreError as exc:
                if not exc.retriable:
                    await self._find_refused(batch, exc)
                    return
                self._failed(exc)
                if not durable:
                    SINK_ERRORS.labels(sink=self.name, kind="skipped").inc()
                    return
                await asyncio.sleep(self.backoff.next_delay())
                continue
            self._succeeded(written)
            return

    def _failed(self, exc: StoreError) -> None:
        SINK_ERRORS.labels(sink=self.name, kind="retriable").inc()
        self.breaker.failure(time.monotonic())
        if self.breaker.opened_at is not None:
            SINK_CIRCUIT_OPEN.labels(sink=self.name).set(1)
        log.warning("sink %s: write failed: %s", self.name, exc)

    def _succeeded(self, written: int) -> None:
        if self.breaker.opened_at is not None:
            log.info("sink %s: store is back", self.name)
        self.breaker.success()
        self.backoff.reset()
        SINK_CIRCUIT_OPEN.labels(sink=self.name).set(0)
        SINK_POINTS.labels(sink=self.name).inc(written)

    async def _find_refused(self, batch: list[Decoded[T]], exc: StoreError) -> None:
        """Halve the batch until the refused records are alone, and dead-letter those."""
        if len(batch) == 1:
            SINK_ERRORS.labels(sink=self.name, kind="refused").inc()
            log.warning("sink %s: refused, dead-lettered: %s", self.name, exc)
            await self._dead_letter(batch[0].record, "sink_refused", f"{self.name}: {exc}")
            return
        middle = len(batch) // 2
        await self._deliver(batch[:middle])
        await self._deliver(batch[middle:])

    async def _dead_letter(self, record: Record, reason: str, detail: str) -> None:
        DEADLETTERS.labels(reason=reason).inc()
        where = (record.topic, record.partition, record.offset)
        letter = DeadLetter.of(
            reason,
            detail,
            record.value or b"",
            where,
            record.key,
            self.settings.kafka_max_message_bytes,
        )
        await self._producer.send_and_wait(
            self.settings.topic(DEADLETTER.name),
            key=record.key,
            value=letter.model_dump_json().encode(),
        )

    async def _commit(self, consumer: AIOKafkaConsumer, batch: list[Decoded[T]]) -> None:
        """Commit what was stored; partitions lost to a rebalance meanwhile are redelivered to
        their new owner, which rewrites the same points (harmless: the writes are idempotent)."""
        assigned = consumer.assignment()
        offsets: dict[TopicPartition, int] = {}
        for decoded in batch:
            record = decoded.record
            tp = TopicPartition(record.topic, record.partition)
            offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
        mine = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        try:
            if mine:
                await consumer.commit(mine)
        except Exception as exc:
            SINK_ERRORS.labels(sink=self.name, kind="commit").inc()
            log.warning("sink %s: commit failed, records will be redelivered: %s", self.name, exc)
            return
        SINK_RECORDS.labels(sink=self.name).inc(len(batch))
