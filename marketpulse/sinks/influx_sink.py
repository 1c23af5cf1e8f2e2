"""Sinks into InfluxDB: quotes, bars, indicators and signals, as the measurements in
docs/architecture.md."""

from __future__ import annotations

from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TypeVar

from marketpulse.errors import StoreError
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Frame, Quote
from marketpulse.schemas.signals import Signal
from marketpulse.settings import Settings
from marketpulse.sinks.base import Sink
from marketpulse.storage import measurements
from marketpulse.storage.influx import RETENTION, InfluxClient
from marketpulse.storage.line_protocol import LineProtocolError, Point, encode
from marketpulse.streams.topics import CLEAN, INDICATORS, SIGNALS, bars_topic_name

T = TypeVar("T")


class InfluxSink(Sink[T]):
    """Writes points to InfluxDB; the database and its policies are made on the first write."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: InfluxClient | None = None
        self._database_ready = False

    @abstractmethod
    def lines(self, items: list[T]) -> Iterable[tuple[str, str]]:
        """Each item's points as line protocol, with the retention policy each goes to."""

    async def start(self) -> None:
        self._client = InfluxClient(self.settings)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def write(self, items: list[T]) -> int:
        if self._client is None:
            raise RuntimeError("start() first")
        if not self._database_ready:
            await self._client.ensure_database()
            self._database_ready = True
        by_policy: dict[str, list[str]] = defaultdict(list)
        try:
            for policy, line in self.lines(items):
                by_policy[policy].append(line)
        except LineProtocolError as exc:
            raise StoreError(str(exc), retriable=False) from exc
        for policy, lines in by_policy.items():
            await self._client.write_lines(lines, retention_policy=policy)
        return sum(map(len, by_policy.values()))


class QuoteSink(InfluxSink[Quote]):
    """``market.clean`` -> ``market_quotes``: every quote, or the last per symbol and interval."""

    name = "quotes"

    def topics(self) -> list[str]:
        return [self.settings.topic(CLEAN.name)]

    def decode(self, topic: str, value: bytes) -> Sequence[Quote]:
        frame = Frame.model_validate_json(value)
        return [event for event in frame.events if isinstance(event, Quote)]

    def lines(self, items: list[Quote]) -> Iterable[tuple[str, str]]:
        policy = RETENTION["quotes"].name
        if self.settings.quote_storage == "sampled":
            interval = self.settings.quote_sample_ms * 1_000_000
            points: Iterable[Point] = measurements.sample_quotes(items, interval)
        else:
            points = (p for q in items if (p := measurements.quote_point(q)) is not None)
        return ((policy, encode(p)) for p in points)


class BarSink(InfluxSink[Bar]):
    """``market.bars.<g>`` -> ``market_data``; daily and longer bars in the 10-year policy."""

    name = "bars"

    def topics(self) -> list[str]:
        return [self.settings.topic(bars_topic_name(g)) for g in self.settings.granularities]

    def decode(self, topic: str, value: bytes) -> Sequence[Bar]:
        return [Bar.model_validate_json(value)]

    def lines(self, items: list[Bar]) -> Iterable[tuple[str, str]]:
        return (
            (measurements.bar_retention(b.granularity), encode(measurements.bar_point(b)))
            for b in items
        )


class IndicatorSink(InfluxSink[IndicatorSnapshot]):
    """``analytics.indicators`` -> ``market_indicators``, one point per value."""

    name = "indicators"

    def topics(self) -> list[str]:
        return [self.settings.topic(INDICATORS.name)]

    def decode(self, topic: str, value: bytes) -> Sequence[IndicatorSnapshot]:
        return [IndicatorSnapshot.model_validate_json(value)]

    def lines(self, items: list[IndicatorSnapshot]) -> Iterable[tuple[str, str]]:
        policy = RETENTION["indicators"].name
        return ((policy, line) for s in items for line in measurements.indicator_lines(s))


class SignalSink(InfluxSink[Signal]):
    """``analytics.signals`` -> ``market_signals``, kept as long as indicators."""

    name = "signals"

    def topics(self) -> list[str]:
        return [self.settings.topic(SIGNALS.name)]

    def decode(self, topic: str, value: bytes) -> Sequence[Signal]:
        return [Signal.model_validate_json(value)]

    def lines(self, items: list[Signal]) -> Iterable[tuple[str, str]]:
        policy = RETENTION["indicators"].name
        return ((policy, encode(measurements.signal_point(s))) for s in items)
