"""One bar series, (symbol, granularity): its indicators and its signal detectors, advanced
together by each accepted bar, whichever agent applies it (built bars or ready-made ones)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.signals import Signal


@dataclass
class SeriesState:
    """The indicator set, the detectors, the last bar start applied, and the last bars-topic
    offset applied (ready-made bars; built bars are applied where they are built). A series of
    ready-made bars also keeps the open bars of the coarser granularities it rolls up into
    (:meth:`~marketpulse.analytics.bars.BarBuilder.state`, None when there are none)."""

    indicators: IndicatorSet
    detector: SignalDetector
    last_start: int | None = None
    offset: int = -1
    rollup: dict[str, Any] | None = None

    @classmethod
    def new(cls, specs: Iterable[str], config: DetectorConfig) -> SeriesState:
        """A state for a series seen for the first time."""
        return cls(IndicatorSet(specs), SignalDetector.new(config))

    def applied(self, bar: Bar) -> bool:
        """Whether the series already has a bar at or after this one's start."""
        return self.last_start is not None and bar.start <= self.last_start

    def advance(self, bar: Bar) -> tuple[IndicatorSnapshot, list[Signal]]:
        """Apply an accepted bar: its indicator snapshot and the signals it fires."""
        values = self.indicators.update(
            Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
        )
        if not all(map(math.isfinite, values.values())):
            # an output that overflowed is not defined: JSON would carry it as null
            values = {name: value for name, value in values.items() if math.isfinite(value)}
        snapshot = IndicatorSnapshot(
            symbol=bar.symbol,
            granularity=bar.granularity,
            bar_start=bar.start,
            values=values,
            ready=self.indicators.readiness(),
            bar=bar,
        )
        self.last_start = bar.start
        return snapshot, self.detector.update(bar, values)

    def to_bytes(self) -> bytes:
        """Encode for the table."""
        return orjson.dumps(
            {
                "set": self.indicators.state(),
                "detector": self.detector.state(),
                "last_start": self.last_start,
                "offset": self.offset,
                "rollup": self.rollup,
            }
        )

    @classmethod
    def from_bytes(cls, config: DetectorConfig, data: bytes) -> SeriesState:
        """Decode from the table."""
        raw = orjson.loads(data)
        return cls(
            IndicatorSet.from_state(raw["set"]),
            SignalDetector.from_state(config, raw["detector"]),
            raw["last_start"],
            raw["offset"],
            raw.get("rollup"),  # states written before roll-ups have none
        )
