"""Everything the signal detectors conclude from one bar and its indicator values: candlestick
patterns, trend signals, levels and chart patterns, as Signal records. The batch command and
the stream share it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marketpulse.analytics.patterns.charts import ChartConfig, ChartPatterns
from marketpulse.analytics.patterns.engine import CandlestickSet
from marketpulse.analytics.patterns.levels import LevelConfig, Levels
from marketpulse.analytics.patterns.trend import TrendConfig, TrendRules
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.signals import Signal


class SignalDetector:
    """One series' (symbol and granularity) detectors."""

    def __init__(
        self, candles: CandlestickSet, trend: TrendRules, levels: Levels, charts: ChartPatterns
    ) -> None:
        self.candles = candles
        self.trend = trend
        self.levels = levels
        self.charts = charts

    @classmethod
    def new(cls, config: DetectorConfig) -> SignalDetector:
        """Detectors for a series seen for the first time."""
        return cls(
            CandlestickSet(config.candlesticks),
            TrendRules(config.trend),
            Levels(config.levels),
            ChartPatterns(config.charts),
        )

    def update(self, bar: Bar, values: dict[str, float]) -> list[Signal]:
        """The signals of one accepted bar, given its indicator values."""
        key = {"symbol": bar.symbol, "granularity": bar.granularity, "ts": bar.start}
        signals = []
        outputs = self.candles.update(bar.open, bar.high, bar.low, bar.close)
        for name, value in zip(self.candles.names, outputs, strict=True):
            if value:
                signals.append(
                    Signal(
                        **key,
                        kind="candlestick",
                        name=name,
                        strength=abs(value),
                        direction="bullish" if value > 0 else "bearish",
                    )
                )
        level_signals, swings = self.levels.update(bar.start, bar.high, bar.low, bar.close)
        for kind, fired_list in (
            ("trend", self.trend.update(bar.close, values)),
            ("level", level_signals),
            ("chart", self.charts.update(bar.start, bar.close, swings)),
        ):
            for fired in fired_list:
                signals.append(
                    Signal(
                        **key,
                        kind=kind,
                        name=fired.name,
                        direction=fired.direction,
                        strength=fired.strength,
                        details=fired.details,
                    )
                )
        return signals

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "candles": self.candles.state(),
            "trend": self.trend.state(),
            "levels": self.levels.state(),
            "charts": self.charts.state(),
        }

    @classmethod
    def from_state(cls, config: DetectorConfig, state: dict[str, Any]) -> SignalDetector:
        """Rebuild from :meth:`state`."""
        return cls(
            CandlestickSet.from_state(state["candles"], config.candlesticks),
            TrendRules.from_state(config.trend, state["trend"]),
            Levels.from_state(config.levels, state["levels"]),
            ChartPatterns.from_state(config.charts, state["charts"]),
        )


@dataclass(frozen=True)
class DetectorConfig:
    """Every detector's settings."""

    candlesticks: tuple[str, ...] | None = None  # None: all
    trend: TrendConfig = field(default_factory=TrendConfig)
    levels: LevelConfig = field(default_factory=LevelConfig)
    charts: ChartConfig = field(default_factory=ChartConfig)
