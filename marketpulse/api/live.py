"""Live updates for WebSocket clients: one Kafka consumer per API process reads the analytics
topics from their end and fans each record out to the clients subscribed to its channel and
symbol.

Fan-out never waits on a client: each has a bounded queue drained by its own sender task. A
client whose queue is full has fallen behind; it is closed (1013, "try again later") rather
than slowing the feed or being skipped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

from marketpulse import metrics
from marketpulse.settings import Settings
from marketpulse.streams import kafka_compat
from marketpulse.streams.admin import ensure_topics, partitions_of
from marketpulse.streams.topics import FORMING, INDICATORS, SIGNALS, bars_topic_name

log = logging.getLogger(__name__)

CHANNELS = ("bars", "indicators", "forming", "signals")
_BATCH = 100  # records fanned out between chances for the senders to run
SLOW_CLOSE_CODE = 1013


class Subscriber:
    """One client's queue of encoded messages and its subscriptions."""

    def __init__(
        self, queue_size: int, close: Callable[[int, str], Coroutine[Any, Any, None]]
    ) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self.subscriptions: set[tuple[str, str]] = set()
        self.slow = False
        self._close = close

    def offer(self, message: bytes) -> None:
        """Queue a message; a full queue marks the client slow and closes it."""
        if self.slow:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.slow = True
            metrics.WS_DROPPED.inc()
            reason = f"too slow: {self.queue.maxsize} messages waiting"
            asyncio.get_running_loop().create_task(self._close(SLOW_CLOSE_CODE, reason))


class Hub:
    """Who is subscribed to what, and the fan-out."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], set[Subscriber]] = defaultdict(set)

    def subscribe(self, subscriber: Subscriber, channel: str, symbol: str) -> None:
        """Deliver ``channel`` messages of ``symbol`` to ``subscriber``."""
        subscriber.subscriptions.add((channel, symbol))
        self._by_key[(channel, symbol)].add(subscriber)

    def unsubscribe(self, subscriber: Subscriber, channel: str, symbol: str) -> None:
        """Stop one subscription."""
        subscriber.subscriptions.discard((channel, symbol))
        members = self._by_key.get((channel, symbol))
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self._by_key[(channel, symbol)]

    def remove(self, subscriber: Subscriber) -> None:
        """Forget a client entirely."""
        for channel, symbol in list(subscriber.subscriptions):
            self.unsubscribe(subscriber, channel, symbol)

    def publish(self, channel: str, symbol: str, data: bytes) -> int:
        """Offer one record (its JSON) to its subscribers; return how many."""
        members = self._by_key.get((channel, symbol))
        if not members:
            return 0
        message = (
            b'{"type":"' + channel.encode() + b'","symbol":' + orjson.dumps(symbol)
            + b',"data":' + data + b"}"
        )  # fmt: skip
        for subscriber in list(members):
            subscriber.offer(message)
        return len(members)


def channel_topics(settings: Settings) -> dict[str, str]:
    """Topic name -> channel."""
    topics = {settings.topic(bars_topic_name(g)): "bars" for g in settings.granularities}
    topics[settings.topic(INDICATORS.name)] = "indicators"
    topics[settings.topic(FORMING.name)] = "forming"
    topics[settings.topic(SIGNALS.name)] = "signals"
    return topics


async def feed(settings: Settings, hub: Hub, ready: asyncio.Event, stop: asyncio.Event) -> None:
    """Read the analytics topics from their current end into ``hub`` until ``stop`` is set
    (checked between fetches, at least four times a second) or it is cancelled; retry when the
    broker is away. Stopping between fetches rather than by cancellation: a fetch cancelled
    while the broker has not answered it can hold the consumer, and its connections, for as
    long as the request's timeout."""
    kafka_compat.apply(
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms, tansu=settings.kafka_tansu_compat
    )
    topics = channel_topics(settings)
    while True:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers(),
            group_id=None,
            client_id="marketpulse-api-live",
            enable_auto_commit=False,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        )
        try:
            await ensure_topics(settings)
            await consumer.start()
            partitions = await partitions_of(consumer, topics)
            consumer.assign(partitions)
            for tp, end in (await consumer.end_offsets(partitions)).items():
                consumer.seek(tp, end)
            ready.set()
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=250, max_records=_BATCH)
                for tp, records in batches.items():
                    channel = topics[tp.topic]
                    for record in records:
                        _publish(hub, channel, record.value)
                # let the senders drain before the next batch: a queue has to hold one
                # batch's burst, not everything the broker has
                await asyncio.sleep(0)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("live feed interrupted, reconnecting: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
            if stop.is_set():
                return
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


def _publish(hub: Hub, channel: str, value: bytes | None) -> None:
    if not value:
        return
    try:
        symbol = orjson.loads(value).get("symbol")
    except orjson.JSONDecodeError:
        return  # the agents dead-letter malformed records; subscribers never see them
    if isinstance(symbol, str):
        hub.publish(channel, symbol, value)
