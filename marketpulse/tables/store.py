"""A table's in-memory store that reads its changelog partitions in bulk when they are assigned.

Faust's recovery hands a memory store its changelog one record at a time, as stream events: from
its consumer thread through a queue, each awaited with a timeout of its own, the offsets still to
read summed again after each. That is about 200 us of a worker's time a record, against about 20
for a plain consumer's batches, and a worker taking over 10,000 symbols reads some 50,000 of
them. So this store reads its active partitions itself, with a consumer of its own, when they are
assigned (``Store.on_rebalance``, which Faust awaits before its recovery starts), and reports the
last offset read as its persisted offset, as a store on disk does. Faust's recovery then reads
only what was written after that (nothing, unless a worker that lost the partition still wrote).

Partitions held as standbys are left to Faust, which follows them as they grow. A read that
fails leaves its partitions' offsets unknown, and Faust's recovery reads them whole as before.
It holds tables of raw bytes only (:func:`marketpulse.streams.codecs.bytes_table`): their keys
and values are the records' own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from faust.stores import STORES, memory
from faust.transport.drivers.aiokafka import server_list
from faust.types import TP

from marketpulse.metrics import STATE_RECOVERED

log = logging.getLogger(__name__)

SCHEME = "bulk-memory"
URL = f"{SCHEME}:///"  # a table's store (an empty URL, ``bulk-memory://``, is false: Faust would
# take the app's store instead)
_BATCH = 10_000  # records a fetch hands back at most


@dataclass
class Partitions:
    """What a read found: each key's last value (None: deleted) and partition, and the offset of
    the last record read per partition."""

    values: dict[bytes, tuple[int, bytes | None]] = field(default_factory=dict)
    last: dict[TopicPartition, int] = field(default_factory=dict)
    records: int = 0
    keyless: int = 0  # records with no key: no key's state, left out


async def read_partitions(
    servers: list[str] | str, tps: Iterable[TopicPartition], client_id: str
) -> Partitions:
    """Every record of ``tps`` up to their end offsets at the start of the read (and any
    batch that reaches past them), folded into each key's last value."""
    found = Partitions()
    # no group: it commits nothing, and nothing but this read moves its positions
    consumer = AIOKafkaConsumer(
        bootstrap_servers=servers, client_id=client_id, auto_offset_reset="earliest"
    )
    try:  # started inside: the caller's deadline can cancel it half-connected
        await consumer.start()
        tps = list(tps)
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        values, last = found.values, found.last
        left = await _unread(consumer, tps, ends)
        while left:
            batches = await consumer.getmany(*left, timeout_ms=1000, max_records=_BATCH)
            for tp, records in batches.items():
                for record in records:
                    if record.key is None:
                        found.keyless += 1
                    else:
                        values[record.key] = (tp.partition, record.value)
                found.records += len(records)
                if records:
                    last[tp] = records[-1].offset
            left = await _unread(consumer, left, ends)
    finally:
        await consumer.stop()
    return found


async def _unread(
    consumer: AIOKafkaConsumer, tps: Iterable[TopicPartition], ends: dict[TopicPartition, int]
) -> list[TopicPartition]:
    """The partitions still short of their end (a log whose start has moved up to its end, all
    of it deleted or compacted away, has nothing to read)."""
    return [tp for tp in tps if await consumer.position(tp) < ends[tp]]


class BulkRecoveryStore(memory.Store[bytes, bytes]):
    """Faust's memory store, whose active changelog partitions are read in bulk at each
    assignment (the module's docstring says why)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._read: dict[TP, int] = {}
        super().__init__(*args, **kwargs)
        if (self.key_serializer, self.value_serializer) != ("raw", "raw"):
            raise TypeError(f"{self.table_name}: a bulk-read store holds raw bytes only")

    def persisted_offset(self, tp: TP) -> int | None:
        """The offset of the last record read for ``tp`` at its assignment, else None (Faust
        reads it whole)."""
        return self._read.get(tp)

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        """Read every active partition of this table's changelog, kept or new: the worker's own
        writes since it was last assigned are on the changelog too. (The memory store's own
        ``on_rebalance`` does nothing: its keys of revoked partitions go once the recovery
        completes.)"""
        self._read = {}
        app: Any = self.app
        standbys = app.assignor.assigned_standbys()
        topics = self.table.changelog_topic.topics
        tps = [tp for tp in assigned if tp.topic in topics and tp not in standbys]
        if not tps:
            return
        producer = app._producer  # what this worker sent before the rebalance is read back too
        if producer is not None:
            await producer.flush()
        log.info("%s: reading %d changelog partitions", self.table_name, len(tps))
        began = time.perf_counter()
        servers = server_list(app.conf.broker, 9092)
        try:
            found = await asyncio.wait_for(
                read_partitions(servers, (TopicPartition(tp.topic, tp.partition) for tp in tps),
                                f"{app.conf.id}-recovery"),
                app.conf.broker_request_timeout,
            )  # fmt: skip
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning("%s: reading %d changelog partitions failed (%r); Faust's recovery reads "
                        "them instead", self.table_name, len(tps), exc)  # fmt: skip
            return
        self._apply(found)
        if found.keyless:
            log.warning("%s: %d changelog records with no key left out (no key's state)",
                        self.table_name, found.keyless)  # fmt: skip
        log.info("%s: read %d records of %d changelog partitions in %.2f s", self.table_name,
                 found.records, len(tps), time.perf_counter() - began)  # fmt: skip

    def _apply(self, found: Partitions) -> None:
        data, partitions = self.data, self._key_partition
        for key, (partition, value) in found.values.items():
            if value is None:
                data.pop(key, None)
                partitions.pop(key, None)
            else:
                data[key] = value
                partitions[key] = partition
        self._read = {TP(tp.topic, tp.partition): offset for tp, offset in found.last.items()}
        STATE_RECOVERED.labels(table=self.table_name).inc(found.records)


STORES.aliases[SCHEME] = f"{__name__}:{BulkRecoveryStore.__name__}"
