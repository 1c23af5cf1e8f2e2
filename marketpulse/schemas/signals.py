"""Signals on ``analytics.signals``: what the pattern, trend and level detectors conclude."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from marketpulse.schemas.events import Symbol, TimestampNs, WireModel


class Signal(WireModel):
    """One detection on one bar, keyed like the bar plus the signal's name."""

    symbol: Symbol
    granularity: str
    bar_start: TimestampNs
    family: Literal["candlestick", "trend", "level", "chart"]
    name: str = Field(description="e.g. cdlengulfing, golden_cross, breakout")
    value: float = Field(description="TA-Lib's ±100/±80/±200 for candles; the level or 0 else")
    direction: Literal["bullish", "bearish", "neutral"]
    detail: dict[str, float] = Field(default_factory=dict)

    def key(self) -> str:
        """The deterministic record key: symbol, granularity, bar start and name."""
        return f"{self.symbol}|{self.granularity}|{self.bar_start}|{self.name}"
