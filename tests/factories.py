"""Records for tests, consistent with each other (a snapshot's bar matches its keys)."""

from __future__ import annotations

from marketpulse.analytics.granularity import parse_granularity
from marketpulse.schemas.bars import Bar, IndicatorSnapshot


def make_bar(symbol: str, granularity: str, start: int, close: float = 100.0) -> Bar:
    """A plain bar around ``close``."""
    return Bar(symbol=symbol, granularity=granularity, start=start,
               end=start + parse_granularity(granularity), open=close - 0.5, high=close + 1,
               low=close - 1, close=close, volume=10.0)  # fmt: skip


def make_snapshot(
    symbol: str,
    granularity: str,
    start: int,
    values: dict[str, float],
    ready: dict[str, bool] | None = None,
    bar: Bar | None = None,
    final: bool = True,
) -> IndicatorSnapshot:
    """A snapshot of ``values`` after a bar (a plain one unless given; still forming unless
    ``final``)."""
    bar = (bar or make_bar(symbol, granularity, start)).model_copy(update={"final": final})
    return IndicatorSnapshot(symbol=symbol, granularity=granularity, bar_start=start,
                             values=values, ready=ready or {}, bar=bar, final=final)  # fmt: skip
