"""What every source shares: one producer, records keyed by symbol, refused vendor rows on the
dead-letter topic, and a tally per symbol for the run's job."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from types import TracebackType

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from marketpulse.analytics.conditions import ConditionTable
from marketpulse.conditions import mark
from marketpulse.errors import RecordTooLarge
from marketpulse.metrics import DEADLETTERS
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import DeadLetter, Event, Frame
from marketpulse.schemas.news import NewsItem
from marketpulse.settings import Settings
from marketpulse.streams.admin import ensure_topics
from marketpulse.streams.sources.job_runs import UNKNOWN, Tally
from marketpulse.streams.topics import BARS_RAW, DEADLETTER, NEWS, RAW
from marketpulse.vendors.common import Rejected

# Acknowledgements are awaited in windows this large: delivery errors surface (and fail the run)
# instead of vanishing, and a fast source cannot run unboundedly ahead of the broker.
_WINDOW = 2_000


class Publisher:
    """``async with Publisher(settings, "polygon") as out:`` then ``await out.frames(...)``.

    With a condition table (``conditions``, which a refresh may replace at any time), each trade
    is marked with the parts of a bar it may update before it is published."""

    def __init__(
        self,
        settings: Settings,
        source: str,
        tally: Tally | None = None,
        conditions: ConditionTable | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.tally = tally or Tally()
        self.conditions = conditions
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap_servers(),
            linger_ms=5,
            max_batch_size=1 << 20,
            max_request_size=settings.kafka_max_message_bytes,
        )
        self._pending: list[asyncio.Future[object]] = []

    async def __aenter__(self) -> Publisher:
        await ensure_topics(self.settings)
        await self._producer.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                await self.drain()
        finally:
            await self._producer.stop()

    async def send(
        self, name: str, symbol: str | None, value: BaseModel | bytes, records: int = 1
    ) -> None:
        """Produce one message to topic ``name`` (before the prefix), keyed by ``symbol``."""
        body = value if isinstance(value, bytes) else value.model_dump_json().encode()
        limit = self.settings.kafka_max_message_bytes
        if len(body) > limit:
            raise RecordTooLarge(
                f"a {name} record of {records} events is {len(body):,} bytes, over "
                f"MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES ({limit:,}): use a smaller --frame-size"
            )
        key = symbol.encode() if symbol else None
        self._pending.append(await self._producer.send(self.settings.topic(name), body, key))
        self.tally.add(symbol or UNKNOWN, records=records)
        if len(self._pending) >= _WINDOW:
            await self.drain()

    async def drain(self) -> None:
        """Wait until the broker has acknowledged everything sent; raise a delivery error."""
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)

    async def frames(self, events: Iterable[Event], received_ts: int, frame_size: int) -> None:
        """Events as frames of up to ``frame_size`` consecutive events of one symbol."""
        marked = mark(events, self.conditions)
        by_symbol = sorted(marked, key=lambda e: e.symbol)  # stable: time order is kept
        for symbol, group in itertools.groupby(by_symbol, key=lambda e: e.symbol):
            chunk = list(group)
            for i in range(0, len(chunk), frame_size):
                part = chunk[i : i + frame_size]
                frame = Frame(source=self.source, received_ts=received_ts, events=part)
                await self.send(RAW.name, symbol, frame, records=len(part))

    async def bars(self, bars: Iterable[Bar]) -> None:
        """Ready-made bars, on ``market.bars.raw`` for the worker's bar gate."""
        for bar in bars:
            await self.send(BARS_RAW.name, bar.symbol, bar)

    async def news(self, items: Iterable[NewsItem]) -> None:
        """Headlines on ``market.news``."""
        for item in items:
            await self.send(NEWS.name, item.symbol, item)

    async def reject(self, rows: Iterable[Rejected], symbol: str | None) -> None:
        """Vendor rows that could not become records, dead-lettered with their reason (keyed by
        ``symbol`` when the row's symbol is known)."""
        for row in rows:
            DEADLETTERS.labels(reason=row.reason).inc()
            where = (f"vendor:{self.source}", -1, -1)
            limit = self.settings.kafka_max_message_bytes
            letter = DeadLetter.of(row.reason, row.detail, row.row, where, symbol, limit)
            await self.send(DEADLETTER.name, symbol, letter, records=0)
            self.tally.add(symbol or UNKNOWN, errors=1)
