"""The latest quote, bar and indicators per symbol into Redis: best effort.

A cache outage must not hold back anything, so this sink tries each batch once, counts a
failure (``marketpulse_sink_errors_total{sink="cache"}``) and moves on; the circuit breaker
skips Redis entirely for a while after repeated failures.
"""

from __future__ import annotations

from collections.abc import Sequence

from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.events import Frame, Quote
from marketpulse.settings import Settings
from marketpulse.sinks.base import Sink
from marketpulse.storage.cache import Latest, LatestCache, connect
from marketpulse.streams.topics import CLEAN, INDICATORS, bars_topic_name


class CacheSink(Sink[Latest]):
    """``market.clean``, ``market.bars.<g>`` and ``analytics.indicators`` -> Redis."""

    name = "cache"
    durable = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clean = settings.topic(CLEAN.name)
        self._indicators = settings.topic(INDICATORS.name)
        self._cache: LatestCache | None = None

    def topics(self) -> list[str]:
        bars = [self.settings.topic(bars_topic_name(g)) for g in self.settings.granularities]
        return [self._clean, *bars, self._indicators]

    def decode(self, topic: str, value: bytes) -> Sequence[Latest]:
        if topic == self._clean:
            quotes = [e for e in Frame.model_validate_json(value).events if isinstance(e, Quote)]
            last: dict[str, Quote] = {}
            for quote in quotes:
                if quote.bid is not None and quote.ask is not None:
                    last[quote.symbol] = quote
            return list(last.values())
        if topic == self._indicators:
            return [IndicatorSnapshot.model_validate_json(value)]
        return [Bar.model_validate_json(value)]

    async def start(self) -> None:
        self._cache = LatestCache(connect(self.settings.redis_url))

    async def close(self) -> None:
        if self._cache is not None:
            await self._cache.client.aclose()

    async def write(self, items: list[Latest]) -> int:
        if self._cache is None:
            raise RuntimeError("start() first")
        return await self._cache.put(items)
