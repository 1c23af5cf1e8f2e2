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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

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


def apply(delivered: Callable[[], Awaitable[None]]) -> None:
    """Make the consumer wait for ``delivered`` (every batch the worker sent delivered or
    failed) before it commits, and refuse to commit once ``guard`` has seen a failed send."""
    commit = Consumer._commit

    async def _commit(self: ThreadDelegateConsumer, offsets: Mapping[TP, int]) -> bool:
        await delivered()
        if guard.failure is not None:
            await self.crash(DeliveryFailed(f"a record was not delivered: {guard.failure!r}"))
            return False
        return await commit(self, offsets)

    Consumer._commit = _commit  # type: ignore[method-assign]
