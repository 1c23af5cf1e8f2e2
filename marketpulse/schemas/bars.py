"""OHLCV bars and indicator snapshots, as published on ``market.bars.<g>`` and
``analytics.indicators``."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from marketpulse.analytics.indicators.registry import output_names
from marketpulse.schemas.events import Symbol, TimestampNs, WireModel


class Bar(WireModel):
    """One event-time bar: ``[start, end)`` in integer ns UTC, aligned to the granularity (on
    UTC clock boundaries, or to the sessions of its calendar)."""

    symbol: Symbol
    granularity: str = Field(description="e.g. 1m, 5m, 1h, 1d")
    start: TimestampNs
    end: TimestampNs
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float | None = Field(None, description="volume-weighted price; None without volume")
    trades: int = Field(0, ge=0, description="number of trades in the bar")
    revision: int = Field(0, ge=0, description="0 when first published; higher restates it")
    calendar: str | None = Field(
        None, description="the exchange calendar the bar follows; none: UTC clock boundaries"
    )
    session: str | None = Field(
        None, description="the date (ISO) of the calendar session the bar belongs to"
    )
    final: bool = Field(
        True, description="false for a bar still forming (analytics.forming): it may change"
    )

    def key(self) -> str:
        """The deterministic record key: symbol, granularity and bar start."""
        return f"{self.symbol}|{self.granularity}|{self.start}"


def _output_names(schema: dict[str, Any]) -> None:
    # when a schema is asked for, not at import: the names come from building every indicator
    schema["propertyNames"] = {"pattern": output_names()}


class IndicatorSnapshot(WireModel):
    """Every indicator value after one bar, keyed like the bar it follows, with the bar itself:
    a subscriber (a trading platform, the dashboard) gets prices and indicators together,
    for accepted bars only, in order."""

    symbol: Symbol
    granularity: str
    bar_start: TimestampNs
    values: dict[str, float] = Field(
        description="output name -> value; only defined outputs (the names of `marketpulse "
        "indicators --catalog`, with the parameters configured)",
        json_schema_extra=_output_names,
    )
    ready: dict[str, bool] = Field(description="indicator spec -> reached its first output bar")
    bar: Bar = Field(description="the bar these values follow")
    final: bool = Field(
        True,
        description="false on analytics.forming: the values the bar still forming would give "
        "if it closed now",
    )
    revision: int = Field(
        0,
        ge=0,
        description="0 when first published; published again after a revision of its bar or "
        "an earlier one, with the series' count of revisions: higher replaces lower",
    )

    @model_validator(mode="after")
    def _of_its_bar(self) -> IndicatorSnapshot:
        bar = self.bar
        if (bar.symbol, bar.granularity, bar.start, bar.final) != (
            self.symbol, self.granularity, self.bar_start, self.final
        ):  # fmt: skip
            raise ValueError(
                "the snapshot's symbol, granularity, bar_start and final must be its bar's"
            )
        return self

    def key(self) -> str:
        """The deterministic record key: symbol, granularity and bar start."""
        return f"{self.symbol}|{self.granularity}|{self.bar_start}"
