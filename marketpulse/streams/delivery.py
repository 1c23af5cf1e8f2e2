"""Offsets are committed only while every record the worker sent was delivered.

Agents' outputs and the tables' states go to the producer in the worker's own batches, without
waiting for them (:mod:`marketpulse.streams.batches`), and Faust flushes the producer before it
commits offsets. But that flush waits for the sends without failing on one that failed: for its
own sends Faust logs the error and tells the sensors (``Topic._on_published``), and nothing at
all watches a batch handed straight to the producer. Then it commits the offsets of the steps
whose records were lost. A record the broker refuses, or a batch that expires while the
broker is away for longer than ``MARKETPULSE_KAFKA_PRODUCER_TIMEOUT_S``, would be lost that way,
at-least-once broken.

The guard notes every failed send (``marketpulse_send_failures_total``): as a sensor for
Faust's, through :meth:`DeliveryGuard.watch` for the worker's batches. Before each commit the
consumer hands over the batches and waits until each was delivered; once one has failed, it
commits nothing more: it crashes instead, so the worker stops, and whoever takes
its partitions replays them from the last commit, whose records had all been delivered.

The tables' states, flushed as the commit starts, are not whole on the changelog until their
flush is sealed (:mod:`marketpulse.tables.live_states`), and the seal, too, waits for every
record before it: a state says its steps were applied, and the next owner would skip the input
of an output that was lost. So a commit seals its flush only when everything sent before was
delivered, and commits its offsets only when the seal was delivered too. A commit that has no
offsets to commit (none acknowledged since the last, or its partitions revoked) still seals
its flush: the next flush's records would otherwise take this one's states for the last whole
ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Protocol, cast

from aiokafka.errors import KafkaError
from faust import Sensor
from faust.exceptions import ProducerSendError
from faust.transport.consumer import ThreadDelegateConsumer
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP, ProducerT

from marketpulse.errors import MarketPulseError
from marketpulse.metrics import SEND_FAILURES

log = logging.getLogger(__name__)

# what a send that the broker refused or never answered raises
SEND_ERRORS = (ProducerSendError, KafkaError)


class DeliveryFailed(MarketPulseError):
    """A record the worker sent was not delivered: its offsets must not be committed."""


class DeliveryGuard(Sensor):
    """Remembers the first failed send of the worker's producer."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: BaseException | None = None

    def on_send_error(self, producer: ProducerT, exc: BaseException, state: Any) -> None:
        self.fail(exc)

    def watch(self, sent: Awaitable[Any]) -> None:
        """Note the send if its future fails (a send made past Faust's topics)."""
        cast("asyncio.Future[Any]", sent).add_done_callback(self._done)

    def _done(self, sent: asyncio.Future[Any]) -> None:
        if not sent.cancelled() and (exc := sent.exception()) is not None:
            self.fail(exc)

    def fail(self, exc: BaseException) -> None:
        """Note a send that failed, whether its future said so or the send itself raised."""
        SEND_FAILURES.inc()
        if self.failure is None:
            log.error("a record was not delivered, so no offset is committed from now: %r", exc)
            self.failure = exc


guard = DeliveryGuard()


class Seal(Protocol):
    """The tables' flush (:class:`marketpulse.tables.flush.FlushOnCommit`) as a commit seals it."""

    def unsealed(self) -> bool: ...

    def seal(self) -> None: ...


def apply(delivered: Callable[[], Awaitable[None]], flush: Seal) -> None:
    """Make the consumer wait for ``delivered`` (every batch the worker sent delivered or
    failed), then seal ``flush`` and wait again, before it commits; and refuse to seal or
    commit once ``guard`` has seen a failed send."""
    commit, commit_tps = Consumer._commit, Consumer._commit_tps

    async def all_delivered(consumer: ThreadDelegateConsumer) -> bool:
        await delivered()
        if guard.failure is None:
            return True
        await consumer.crash(DeliveryFailed(f"a record was not delivered: {guard.failure!r}"))
        return False

    async def sealed(consumer: ThreadDelegateConsumer) -> bool:
        if not await all_delivered(consumer):
            return False
        if not flush.unsealed():
            return True
        flush.seal()
        return await all_delivered(consumer)

    async def _commit(self: ThreadDelegateConsumer, offsets: Mapping[TP, int]) -> bool:
        return await sealed(self) and await commit(self, offsets)

    async def _commit_tps(
        self: ThreadDelegateConsumer, tps: Iterable[TP], start_new_transaction: bool
    ) -> bool:
        # the offsets are taken at its start, as the flush just made left them
        committed = await commit_tps(self, tps, start_new_transaction=start_new_transaction)
        if flush.unsealed() and guard.failure is None:  # it committed no offsets
            await sealed(self)
        return committed

    Consumer._commit = _commit  # type: ignore[method-assign]
    Consumer._commit_tps = _commit_tps  # type: ignore[method-assign, assignment]
