"""Indicators by spec string (``sma_20``, ``macd_12_26_9``, ``bb_20_2``), and the set kept per
(symbol, granularity).

A spec is the kind followed by its parameters, joined by underscores; ``vwap_session`` is the
session-anchored VWAP. Output names follow the same style (``macdsignal_12_26_9``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marketpulse.analytics.indicators.averages import DEMA, EMA, SMA, TEMA, WMA
from marketpulse.analytics.indicators.base import Candle, Indicator
from marketpulse.analytics.indicators.momentum import CCI, MACD, MFI, ROC, RSI, STOCH, STOCHF, WILLR
from marketpulse.analytics.indicators.trend import ADX, DI
from marketpulse.analytics.indicators.volatility import ATR, BBANDS, TRANGE
from marketpulse.analytics.indicators.volume import OBV, VWAP

DEFAULT_SPECS = (
    "sma_20", "sma_50", "ema_12", "ema_26", "wma_20", "dema_20", "tema_20", "rsi_14",
    "macd_12_26_9", "stoch_14_3_3", "stochf_14_3", "bb_20_2", "trange", "atr_14", "adx_14",
    "di_14", "obv", "cci_20", "willr_14", "roc_10", "mfi_14", "vwap_session", "vwap_20",
)  # fmt: skip

# kind -> (class, parameter types, how many are required; the rest have defaults)
_KINDS: dict[str, tuple[Callable[..., Indicator], tuple[type, ...], int]] = {
    "sma": (SMA, (int,), 1),
    "ema": (EMA, (int,), 1),
    "wma": (WMA, (int,), 1),
    "dema": (DEMA, (int,), 1),
    "tema": (TEMA, (int,), 1),
    "rsi": (RSI, (int,), 0),
    "macd": (MACD, (int, int, int), 0),
    "stoch": (STOCH, (int, int, int), 0),
    "stochf": (STOCHF, (int, int), 0),
    "bb": (BBANDS, (int, float), 0),
    "trange": (TRANGE, (), 0),
    "atr": (ATR, (int,), 0),
    "adx": (ADX, (int,), 0),
    "di": (DI, (int,), 0),
    "obv": (OBV, (), 0),
    "cci": (CCI, (int,), 0),
    "willr": (WILLR, (int,), 0),
    "roc": (ROC, (int,), 0),
    "mfi": (MFI, (int,), 0),
    "vwap": (VWAP, (int,), 0),
}


class UnknownIndicator(ValueError):
    """A spec names no indicator, or gives it the wrong parameters."""


def build(spec: str) -> Indicator:
    """Make the indicator a spec names."""
    if spec == "vwap_session":
        return VWAP()
    kind, *raw = spec.split("_")
    if kind not in _KINDS:
        raise UnknownIndicator(f"unknown indicator {kind!r} in {spec!r}; known: {sorted(_KINDS)}")
    factory, types, required = _KINDS[kind]
    if len(raw) > len(types):
        raise UnknownIndicator(f"{spec!r}: {kind} takes at most {len(types)} parameters")
    try:
        args = [cast(value) for cast, value in zip(types, raw, strict=False)]
    except ValueError as exc:
        raise UnknownIndicator(f"{spec!r}: bad parameter ({exc})") from exc
    if any(isinstance(a, int) and a < 1 for a in args):
        raise UnknownIndicator(f"{spec!r}: periods must be at least 1")
    if len(args) < required:
        raise UnknownIndicator(f"{spec!r}: {kind} needs a period, e.g. {kind}_20")
    return factory(*args)


class IndicatorSet:
    """Every configured indicator over one series of bars, updated together."""

    def __init__(self, specs: Iterable[str] = DEFAULT_SPECS) -> None:
        self.specs = tuple(specs)
        self.indicators = [build(spec) for spec in self.specs]
        self.bars = 0

    def update(self, candle: Candle) -> dict[str, float]:
        """Take the next bar; return every output that is defined."""
        self.bars += 1
        out: dict[str, float] = {}
        for indicator in self.indicators:
            indicator.update(candle)
            indicator.write(out)
        return out

    def readiness(self) -> dict[str, bool]:
        """Whether each indicator has reached its first output bar."""
        return {
            spec: ind.initialized for spec, ind in zip(self.specs, self.indicators, strict=True)
        }

    def outputs(self) -> list[str]:
        """Every output name, in order."""
        return [name for ind in self.indicators for name in ind.outputs]

    def state(self) -> dict[str, Any]:
        """JSON-ready state of every indicator."""
        return {
            "bars": self.bars,
            "indicators": {
                spec: ind.state() for spec, ind in zip(self.specs, self.indicators, strict=True)
            },
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> IndicatorSet:
        """Rebuild a set from :meth:`state`."""
        restored = cls(state["indicators"].keys())
        restored.bars = state["bars"]
        for spec, indicator in zip(restored.specs, restored.indicators, strict=True):
            indicator.load(state["indicators"][spec])
        return restored
