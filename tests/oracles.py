"""TA-Lib as the oracle: each indicator spec mapped to TA-Lib's outputs under our names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import talib
from numpy.typing import NDArray

from marketpulse.analytics.indicators.base import Candle, Indicator
from marketpulse.analytics.patterns.engine import CandlestickSet

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Series:
    """OHLCV columns of one test series."""

    open: Array
    high: Array
    low: Array
    close: Array
    volume: Array

    def __len__(self) -> int:
        return len(self.close)


def closes_only(closes: Array) -> Series:
    """Bars that are each one price (open, high, low and close), with a volume of 1."""
    return Series(closes, closes, closes, closes, np.ones_like(closes))


def outputs(indicator: Indicator, series: Series) -> dict[str, list[float]]:
    """Feed the series bar by bar; every output of each bar, NaN where empty (and the
    indicator initialized exactly where it has values)."""
    out: dict[str, list[float]] = {name: [] for name in indicator.outputs}
    for i in range(len(series)):
        indicator.update(
            Candle(i, float(series.open[i]), float(series.high[i]), float(series.low[i]),
                   float(series.close[i]), float(series.volume[i]))
        )  # fmt: skip
        values = indicator.values()
        assert indicator.initialized == bool(values)
        for name in indicator.outputs:
            out[name].append(values.get(name, float("nan")))
    return out


def _named(names: list[str], arrays: tuple[Array, ...] | Array) -> dict[str, Array]:
    if isinstance(arrays, np.ndarray):
        arrays = (arrays,)
    return dict(zip(names, arrays, strict=True))


TALIB: dict[str, Callable[[Series], dict[str, Array]]] = {
    "sma_20": lambda s: _named(["sma_20"], talib.SMA(s.close, 20)),
    "sma_50": lambda s: _named(["sma_50"], talib.SMA(s.close, 50)),
    "ema_12": lambda s: _named(["ema_12"], talib.EMA(s.close, 12)),
    "ema_26": lambda s: _named(["ema_26"], talib.EMA(s.close, 26)),
    "wma_20": lambda s: _named(["wma_20"], talib.WMA(s.close, 20)),
    "dema_20": lambda s: _named(["dema_20"], talib.DEMA(s.close, 20)),
    "tema_20": lambda s: _named(["tema_20"], talib.TEMA(s.close, 20)),
    "rsi_14": lambda s: _named(["rsi_14"], talib.RSI(s.close, 14)),
    "macd_12_26_9": lambda s: _named(
        ["macd_12_26_9", "macdsignal_12_26_9", "macdhist_12_26_9"], talib.MACD(s.close, 12, 26, 9)
    ),
    "stoch_14_3_3": lambda s: _named(
        ["stoch_slowk_14_3_3", "stoch_slowd_14_3_3"],
        talib.STOCH(s.high, s.low, s.close, 14, 3, 0, 3, 0),
    ),
    "stochf_14_3": lambda s: _named(
        ["stochf_fastk_14", "stochf_fastd_14_3"], talib.STOCHF(s.high, s.low, s.close, 14, 3, 0)
    ),
    "bb_20_2": lambda s: _named(
        ["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"], talib.BBANDS(s.close, 20, 2, 2, 0)
    ),
    "trange": lambda s: _named(["trange"], talib.TRANGE(s.high, s.low, s.close)),
    "atr_14": lambda s: _named(["atr_14"], talib.ATR(s.high, s.low, s.close, 14)),
    "adx_14": lambda s: _named(["adx_14"], talib.ADX(s.high, s.low, s.close, 14)),
    "di_14": lambda s: {
        "plus_di_14": talib.PLUS_DI(s.high, s.low, s.close, 14),
        "minus_di_14": talib.MINUS_DI(s.high, s.low, s.close, 14),
    },
    "obv": lambda s: _named(["obv"], talib.OBV(s.close, s.volume)),
    "cci_20": lambda s: _named(["cci_20"], talib.CCI(s.high, s.low, s.close, 20)),
    "willr_14": lambda s: _named(["willr_14"], talib.WILLR(s.high, s.low, s.close, 14)),
    "roc_10": lambda s: _named(["roc_10"], talib.ROC(s.close, 10)),
    "mfi_14": lambda s: _named(["mfi_14"], talib.MFI(s.high, s.low, s.close, s.volume, 14)),
    # other parameters, to show the parameters are not baked in
    "rsi_2": lambda s: _named(["rsi_2"], talib.RSI(s.close, 2)),
    "macd_5_35_5": lambda s: _named(
        ["macd_5_35_5", "macdsignal_5_35_5", "macdhist_5_35_5"], talib.MACD(s.close, 5, 35, 5)
    ),
    "bb_10_1.5": lambda s: _named(
        ["bb_upper_10_1.5", "bb_middle_10_1.5", "bb_lower_10_1.5"],
        talib.BBANDS(s.close, 10, 1.5, 1.5, 0),
    ),
    "adx_5": lambda s: _named(["adx_5"], talib.ADX(s.high, s.low, s.close, 5)),
    "stoch_5_3_2": lambda s: _named(
        ["stoch_slowk_5_3_2", "stoch_slowd_5_3_2"],
        talib.STOCH(s.high, s.low, s.close, 5, 3, 0, 2, 0),
    ),
}


def assert_equal_to_talib(
    ours: dict[str, list[float]], theirs: dict[str, Array], floor: float = 0.0
) -> None:
    """Same empty bars; elsewhere equal to 1e-9 relative.

    Relative to the larger of the value and the series' magnitude (or ``floor``, when given):
    outputs that cross zero (MACD histogram, ROC) would otherwise demand exactness at the
    crossing.
    """
    assert set(ours) == set(theirs)
    for name, expected in theirs.items():
        got = np.array(ours[name], dtype=float)
        assert np.array_equal(np.isnan(got), np.isnan(expected)), (
            f"{name}: first output at {_first(got)}, TA-Lib's at {_first(expected)}"
        )
        defined = ~np.isnan(expected)
        if not defined.any():
            continue
        magnitude = max(np.max(np.abs(expected[defined])) * 1e-3, floor)
        scale = np.maximum(np.abs(expected[defined]), magnitude)
        error = np.abs(got[defined] - expected[defined]) / np.maximum(scale, 1e-12)
        worst = int(np.argmax(error))
        assert error[worst] <= 1e-9, (
            f"{name}: relative error {error[worst]:.3g} at defined bar {worst} "
            f"(ours {got[defined][worst]!r}, TA-Lib {expected[defined][worst]!r})"
        )


def _first(values: Array) -> int | None:
    defined = np.flatnonzero(~np.isnan(values))
    return int(defined[0]) if defined.size else None


def candlestick_outputs(series: Series, names: list[str]) -> dict[str, list[int]]:
    """Our engine's value of each pattern on every bar of ``series``."""
    engine = CandlestickSet(names)
    out: dict[str, list[int]] = {n: [] for n in names}
    for o, h, l, c in zip(series.open, series.high, series.low, series.close, strict=True):  # noqa: E741
        values = engine.update(float(o), float(h), float(l), float(c))
        for name, value in zip(engine.names, values, strict=True):
            out[name].append(value)
    return out
