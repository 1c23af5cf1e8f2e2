"""One bar series, (symbol, granularity): its indicators and its signal detectors, advanced
together by each accepted bar, whichever agent applies it (built bars or ready-made ones)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
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
        values = self.indicators.update(_candle(bar))
        snapshot = _snapshot(bar, values, self.indicators.readiness())
        self.last_start = bar.start
        return snapshot, self.detector.update(bar, snapshot.values)

    def peek(self, bar: Bar) -> IndicatorSnapshot:
        """The snapshot :meth:`advance` would give on a bar still forming, changing nothing."""
        return forming_snapshot(self.indicators, bar)

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


def forming_snapshot(indicators: IndicatorSet, bar: Bar) -> IndicatorSnapshot:
    """The snapshot ``indicators`` would give on a bar still forming, changing nothing."""
    values, ready = indicators.peek(_candle(bar))
    return _snapshot(bar, values, ready)


@cache
def blank_indicators(specs: tuple[str, ...]) -> IndicatorSet:
    """A set that has seen no bar, made once per configuration: what a series not started yet
    would show on its first bar. Shared, so only ever peeked (which commits nothing)."""
    return IndicatorSet(specs)


def _candle(bar: Bar) -> Candle:
    return Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)


def _snapshot(bar: Bar, values: dict[str, float], ready: dict[str, bool]) -> IndicatorSnapshot:
    if not all(map(math.isfinite, values.values())):
        # an output that overflowed is not defined: JSON would carry it as null
        values = {name: value for name, value in values.items() if math.isfinite(value)}
    return IndicatorSnapshot(
        symbol=bar.symbol,
        granularity=bar.granularity,
        bar_start=bar.start,
        values=values,
        ready=ready,
        bar=bar,
        final=bar.final,
    )
