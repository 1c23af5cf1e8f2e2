"""Everything the pattern agent concludes from one bar and its indicator values: candlestick
patterns and trend signals, as Signal records. The batch command and the stream share it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marketpulse.analytics.patterns.engine import CandlestickSet
from marketpulse.analytics.patterns.trend import TrendConfig, TrendRules
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.signals import Signal


class SignalDetector:
    """One series' (symbol and granularity) detectors."""

    def __init__(self, candles: CandlestickSet, trend: TrendRules) -> None:
        self.candles = candles
        self.trend = trend

    @classmethod
    def new(cls, config: TrendConfig, patterns: Iterable[str] | None = None) -> SignalDetector:
        """Detectors for a series seen for the first time."""
        return cls(CandlestickSet(patterns), TrendRules(config))

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
        for fired in self.trend.update(bar.close, values):
            signals.append(
                Signal(
                    **key,
                    kind="trend",
                    name=fired.name,
                    direction=fired.direction,
                    strength=fired.strength,
                    details=fired.details,
                )
            )
        return signals

    def state(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {"candles": self.candles.state(), "trend": self.trend.state()}

    @classmethod
    def from_state(cls, config: TrendConfig, state: dict[str, Any]) -> SignalDetector:
        """Rebuild from :meth:`state`."""
        return cls(
            CandlestickSet.from_state(state["candles"]),
            TrendRules.from_state(config, state["trend"]),
        )
