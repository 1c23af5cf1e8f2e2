"""The worker's records, gathered into the producer's batches by the worker and handed over whole.

aiokafka's ``send`` costs about 11 µs of CPU a record on the local broker: a coroutine, a
future and the accumulator's bookkeeping for every record. A record appended to a batch the
caller builds (the producer's documented ``create_batch`` and ``send_batch``) costs about 4, and
the worker sends as many records as it reads frames, several times over. So the agents' outputs
and the tables' state records are appended here, one batch per topic and partition, and handed
to the producer:

- when a batch is full (the step that filled it waits for the hand-over, as ``send`` waits for
  room in a full batch: the producer's back-pressure);
- a linger after the first record since the last hand-over (the producer's own linger), so
  that a quiet stream's records go out as promptly as they did;
- before the consumer commits (:mod:`marketpulse.streams.delivery`), which then waits for
  every batch handed over to be delivered.

Hand-overs run one at a time, each batch in the order it was started. The producer takes a
batch for a partition only once that partition's batch before it has been sent, so a state
record, appended at the commit after the outputs it implies, never reaches the broker in an
earlier request than they do (:mod:`marketpulse.streams.outbox`). A batch that fails, in the
hand-over or in delivery, is noted by the delivery guard: no offset is committed after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer

from marketpulse.streams.delivery import SEND_ERRORS, DeliveryGuard


class Batches:
    """Records not yet handed to the producer, one batch per topic and partition."""

    def __init__(
        self, producer: Callable[[], AIOKafkaProducer], linger_s: float, guard: DeliveryGuard
    ) -> None:
        self._producer = producer
        self._linger_s = linger_s
        self._guard = guard
        self._open: dict[tuple[str, int], Any] = {}  # (topic, partition) -> BatchBuilder
        self._full: list[tuple[tuple[str, int], Any]] = []  # closed, in the order started
        self._sent: list[asyncio.Future[Any]] = []  # handed over since the last delivery
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Future[None] | None = None

    def append(self, topic: str, partition: int, key: bytes | None, value: bytes) -> bool:
        """Add a record to its partition's batch; True when a batch filled up (the caller then
        awaits :meth:`hand_over`)."""
        where = (topic, partition)
        batch = self._open.get(where)
        if batch is None:
            batch = self._open[where] = self._producer().create_batch()
        if batch.append(timestamp=None, key=key, value=value) is not None:
            if self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self._linger_s, self.soon)
            return False
        # full: it goes out as it is, the record starts the next one (a batch always takes
        # its first record, however large)
        self._full.append((where, batch))
        self._open[where] = batch = self._producer().create_batch()
        batch.append(timestamp=None, key=key, value=value)
        return True

    def soon(self) -> None:
        """Hand the batches over in the background (the linger has passed, or a commit starts)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._hand_over_noted())

    async def hand_over(self) -> None:
        """Give every batch to the producer, in the order they were started."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            batches = [*self._full, *self._open.items()]
            self._full.clear()
            self._open.clear()
            producer = self._producer()
            for (topic, partition), batch in batches:
                sent = await producer.send_batch(batch, topic, partition=partition)
                self._guard.watch(sent)
                self._sent.append(sent)

    async def delivered(self) -> None:
        """Hand every batch over and wait until each was delivered or failed; the guard has
        noted any failure by the time this returns (its callbacks were added first)."""
        await self.hand_over()
        sent, self._sent = self._sent, []
        if sent:  # a failed one is the guard's: waiting raises nothing
            await asyncio.wait(sent)

    async def _hand_over_noted(self) -> None:
        """A background hand-over: a failure stops the commits, and nothing else waits for it."""
        try:
            await self.hand_over()
        except SEND_ERRORS as exc:
            self._guard.fail(exc)
