"""Signals on ``analytics.signals``: what the pattern, trend and level detectors conclude."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from marketpulse.schemas.events import Symbol, TimestampNs, WireModel


class Signal(WireModel):
    """One detection on one bar, keyed like the bar plus the signal's name."""

    symbol: Symbol
    granularity: str
    ts: TimestampNs = Field(description="the start of the bar the signal fired on (ns, UTC)")
    kind: Literal["candlestick", "trend", "level", "chart"]
    name: str = Field(description="e.g. cdlengulfing, golden_cross, breakout")
    direction: Literal["bullish", "bearish", "neutral"]
    strength: float = Field(
        ge=0,
        description="candlesticks: TA-Lib's 100, 80 (weak forms) or 200 (confirmed); else 0-100",
    )
    details: dict[str, float] = Field(default_factory=dict, description="levels, prices, values")
    revision: int = Field(
        0,
        ge=0,
        description="0 when first published; published again (changed or withdrawn) after a "
        "revision of its bar or an earlier one, with the series' count of revisions: higher "
        "replaces lower",
    )
    withdrawn: bool = Field(
        False, description="true: a revised bar no longer fires this signal (key as before)"
    )

    def key(self) -> str:
        """The deterministic record key: symbol, granularity, bar start and name."""
        return f"{self.symbol}|{self.granularity}|{self.ts}|{self.name}"
