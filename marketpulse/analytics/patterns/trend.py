"""Trend and momentum signals from indicator values, bar by bar. Each rule is documented in the
docs/pipeline.md (Signals); the thresholds are settings (:class:`TrendConfig`).

A rule fires on the bar where its condition *becomes* true (a cross), never again while it
stays true, so a signal marks an event, not a state. Indicators that are not defined yet (before
their first output bar) or not configured fire nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from marketpulse.analytics.patterns.fired import Direction, Fired


@dataclass(frozen=True)
class TrendConfig:
    """Which indicator outputs the rules read, and their thresholds."""

    ma_pairs: tuple[tuple[str, str], ...] = (("sma_20", "sma_50"), ("ema_12", "ema_26"))
    macd: str = "macd_12_26_9"
    macd_signal: str = "macdsignal_12_26_9"
    rsi: str = "rsi_14"
    rsi_overbought: float = 70.0
    rsi_oversold: float = 30.0
    bb_upper: str = "bb_upper_20_2"
    bb_middle: str = "bb_middle_20_2"
    bb_lower: str = "bb_lower_20_2"
    squeeze_lookback: int = 120
    adx: str = "adx_14"
    plus_di: str = "plus_di_14"
    minus_di: str = "minus_di_14"
    adx_trending: float = 25.0
    adx_ranging: float = 20.0

    def remembered(self) -> frozenset[str]:
        """The values a rule reads on the bar after (crosses and zone changes)."""
        pairs = [name for pair in self.ma_pairs for name in pair]
        return frozenset([*pairs, self.macd, self.macd_signal, self.rsi, self.bb_upper,
                          self.bb_lower, "close"])  # fmt: skip


class TrendRules:
    """The rules' memory: the previous bar's values that the rules read, the Bollinger bandwidth
    lows of the lookback, the ADX regime.

    The squeeze compares a bar's bandwidth with the lowest of the lookback's; only a width lower
    than every one after it can still be that lowest, so those are kept (with their bar numbers,
    to know when they leave the lookback): a handful on a market's bars, where the whole
    lookback would be 120 numbers, a fifth of a series' state. A plain class, not a dataclass,
    so that the mutation tests reach its methods.
    """

    def __init__(
        self,
        config: TrendConfig | None = None,
        previous: dict[str, float] | None = None,
        *,
        in_squeeze: bool = False,
        regime: str = "unknown",
    ) -> None:
        self.config = config or TrendConfig()
        self.previous: dict[str, float] = previous or {}
        self.lows: deque[tuple[int, float]] = deque()  # (bar number, width), widths rising
        self.widths = 0  # bandwidths seen
        self.in_squeeze = in_squeeze
        self.regime = regime  # trending, ranging, or unknown (between the thresholds at start)
        self._remembered = self.config.remembered()

    def update(self, close: float, values: dict[str, float]) -> list[Fired]:
        """The signals of one bar, given its close and its indicator values."""
        c, prev = self.config, self.previous
        now = {**values, "close": close}
        fired: list[Fired] = []
        for fast, slow in c.ma_pairs:
            cross = _cross(prev, now, fast, slow)
            if cross:
                name = f"{'golden' if cross > 0 else 'death'}_cross_{fast}_{slow}"
                details = {fast: now[fast], slow: now[slow]}
                fired.append(Fired(name, _way(cross), 100.0, details))
        cross = _cross(prev, now, c.macd, c.macd_signal)
        if cross:
            details = {c.macd: now[c.macd], c.macd_signal: now[c.macd_signal]}
            name = f"macd_{'bullish' if cross > 0 else 'bearish'}_cross"
            fired.append(Fired(name, _way(cross), 100.0, details))
        fired += self._rsi(prev, now)
        fired += self._bollinger(prev, now)
        fired += self._adx(now)
        self.previous = {k: v for k, v in now.items() if k in self._remembered}
        return fired

    def _rsi(self, prev: dict[str, float], now: dict[str, float]) -> list[Fired]:
        c = self.config
        if c.rsi not in now or c.rsi not in prev:
            return []
        before, rsi = prev[c.rsi], now[c.rsi]
        details = {c.rsi: rsi}
        out = []
        if before <= c.rsi_overbought < rsi:
            out.append(Fired("rsi_enter_overbought", "bearish", rsi, details))
        elif before > c.rsi_overbought >= rsi:
            out.append(Fired("rsi_exit_overbought", "bearish", 100 - rsi, details))
        if before >= c.rsi_oversold > rsi:
            out.append(Fired("rsi_enter_oversold", "bullish", 100 - rsi, details))
        elif before < c.rsi_oversold <= rsi:
            out.append(Fired("rsi_exit_oversold", "bullish", rsi, details))
        return out

    def _bollinger(self, prev: dict[str, float], now: dict[str, float]) -> list[Fired]:
        c = self.config
        if not {c.bb_upper, c.bb_middle, c.bb_lower} <= now.keys():
            return []
        upper, middle, lower, close = (
            now[c.bb_upper],
            now[c.bb_middle],
            now[c.bb_lower],
            now["close"],
        )
        details = {"close": close, c.bb_upper: upper, c.bb_lower: lower}
        out = []
        if c.bb_upper in prev:
            if close > upper and prev["close"] <= prev[c.bb_upper]:
                out.append(Fired("bb_breakout_up", "bullish", 100.0, details))
            elif close < lower and prev["close"] >= prev[c.bb_lower]:
                out.append(Fired("bb_breakout_down", "bearish", 100.0, details))
        if middle > 0:
            width = (upper - lower) / middle
            squeezed = self.widths >= c.squeeze_lookback and width <= self.lows[0][1]
            if squeezed and not self.in_squeeze:
                out.append(Fired("bb_squeeze", "neutral", 100.0, {**details, "bandwidth": width}))
            self.in_squeeze = squeezed
            self._push_width(width)
        return out

    def _push_width(self, width: float) -> None:
        lows = self.lows
        while lows and lows[-1][1] >= width:
            lows.pop()
        lows.append((self.widths, width))
        self.widths += 1
        while lows[0][0] < self.widths - self.config.squeeze_lookback:
            lows.popleft()

    def _adx(self, now: dict[str, float]) -> list[Fired]:
        c = self.config
        if not {c.adx, c.plus_di, c.minus_di} <= now.keys():
            return []
        adx = now[c.adx]
        details = {c.adx: adx, c.plus_di: now[c.plus_di], c.minus_di: now[c.minus_di]}
        if adx >= c.adx_trending and self.regime != "trending":
            self.regime = "trending"
            way: Direction = "bullish" if now[c.plus_di] >= now[c.minus_di] else "bearish"
            return [Fired("adx_trend_start", way, min(adx, 100.0), details)]
        if adx < c.adx_ranging and self.regime != "ranging":
            start = self.regime == "unknown"
            self.regime = "ranging"
            if not start:  # the first reading sets the regime; only changes are signals
                return [Fired("adx_trend_end", "neutral", min(adx, 100.0), details)]
        return []

    def state(self) -> dict[str, Any]:
        """JSON-ready state (the config comes from the settings)."""
        return {"previous": self.previous, "lows": [list(low) for low in self.lows],
                "widths": self.widths, "in_squeeze": self.in_squeeze,
                "regime": self.regime}  # fmt: skip

    @classmethod
    def from_state(cls, config: TrendConfig, state: dict[str, Any]) -> TrendRules:
        """Rebuild from :meth:`state`, or from a state that kept the lookback's every bandwidth
        (``bandwidths``, as workers wrote it before)."""
        rules = cls(config, state["previous"], in_squeeze=state["in_squeeze"],
                    regime=state["regime"])  # fmt: skip
        if "bandwidths" in state:
            for width in state["bandwidths"]:
                rules._push_width(width)
        else:
            rules.lows.extend((bar, width) for bar, width in state["lows"])
            rules.widths = state["widths"]
        return rules


def _cross(prev: dict[str, float], now: dict[str, float], fast: str, slow: str) -> int:
    """1 when ``fast`` crosses above ``slow`` on this bar, -1 below, else 0."""
    if not ({fast, slow} <= now.keys() and {fast, slow} <= prev.keys()):
        return 0
    if prev[fast] <= prev[slow] and now[fast] > now[slow]:
        return 1
    if prev[fast] >= prev[slow] and now[fast] < now[slow]:
        return -1
    return 0


def _way(cross: int) -> Direction:
    return "bullish" if cross > 0 else "bearish"
