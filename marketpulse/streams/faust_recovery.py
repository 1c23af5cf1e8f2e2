"""Fixes for three ways Faust skips input messages after a (re)assignment.

1. A race in recovery (faust-streaming#596).

When table recovery ends, Faust 0.11-0.15 resumes the stream partitions, seeks them to their
committed offsets, and only then resumes ``app.flow_control``, which clears every stream
queue. Records fetched during the seek are queued and then thrown away, while the consumer's
position has moved past them: the agents never see them, and they see later records first.
Found by the pattern agent's restart test: offsets 19-39 of analytics.indicators vanished
after a restart, so those bars' signals were never published.

The fixed order: stop the consumer's flow (nothing reaches the streams), clear the queues
(``flow_control.resume``), resume the stream partitions and seek them to their committed
offsets, and only then resume the flow: nothing can arrive between the clear and the seek.
Otherwise the method is Faust's own.

2. Seeking "to committed offsets" (after recovery, and whenever records come in while the flow
is stopped, which drops them) leaves a partition with no committed offset where it is: aiokafka
seeks only to offsets above 0. Its position is then past records that were fetched and thrown
away. The worker restart test lost a topic's first bars that way, when the old worker had
stopped before its first commit on that topic. Such stream partitions now go back to their
beginning, which is where the app's ``auto_offset_reset`` starts them anyway; records seen
twice are the redeliveries every agent already skips by offset.

3. A broker that lost its data (the memory-backed local broker after a restart) comes back with
empty topics and changelogs, while a running worker still holds its tables in memory. Those
states remember offsets of logs that no longer exist, so the new records, numbered from 0 again,
would be skipped as redeliveries. When every changelog partition of a table is empty but the
table holds keys, nothing can have written them to this log: the table is cleared and counted
(``marketpulse_state_discarded_total``). In normal operation a table's keys are always in its
changelog, so this never fires.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiokafka.structs import TopicPartition
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer

from marketpulse.metrics import STATE_DISCARDED


async def _on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    consumer = self.app.consumer
    self.log.info("Restore complete!")
    await self.app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if callbacks:
        await asyncio.wait(callbacks)
    for table in self.tables.values():
        _forget_lost_state(self, table)
    assignment = consumer.assignment()
    if self.app.consumer_generation_id != generation_id:
        self.log.warning("Recovery rebalancing again")
        return
    consumer.stop_flow()  # nothing reaches the streams until the seek below is done
    self.app.flow_control.resume()  # clears the stream queues
    consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
    if assignment:
        self.log.info("Seek stream partitions to committed offsets.")
        await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
    self.completed.set()
    consumer.resume_flow()
    await cast(Any, self.app)._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not self.app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    self.app.on_rebalance_end()
    self.log.info("Worker ready")


def _forget_lost_state(recovery: Recovery, table: Any) -> None:
    actives = recovery.actives_for_table[table]
    highwaters = recovery.active_highwaters  # Faust's: the last offset, -1 for an empty log
    if actives and len(table.data) and all(highwaters[tp] < 0 for tp in actives):
        recovery.log.warning(
            "%s: its changelog is empty but %d keys are held; the broker lost its data, so the "
            "table starts again from empty",
            table.name,
            len(table.data),
        )
        table.data.clear()
        STATE_DISCARDED.labels(table=table.name).inc()


_original_perform_seek = Consumer.perform_seek


async def _perform_seek(self: Consumer) -> None:
    await _original_perform_seek(self)
    changelogs = self.app.tables.changelog_topics  # recovery positions these itself
    uncommitted = [
        TopicPartition(tp.topic, tp.partition)
        for tp in self.assignment()
        if tp.topic not in changelogs and self._committed_offset.get(tp) is None
    ]
    if uncommitted:
        await cast(Any, self)._thread.seek_to_beginning(*uncommitted)


def apply() -> None:
    """Install both fixes (idempotent)."""
    Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek  # type: ignore[method-assign]
