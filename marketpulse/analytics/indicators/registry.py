"""Indicators by spec string (``sma_20``, ``macd_12_26_9``, ``bb_20_2``, ``sma``), and the set
kept per (symbol, granularity).

Every kind but three is a TA-Lib function (``catalog.py`` says how a spec reads); the engine's
own are ``di_<n>`` (+DI and -DI together), ``vwap_<n>`` (a rolling VWAP) and ``vwap_session``
(anchored to the session). Output names follow the spec (``macdsignal_12_26_9``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marketpulse.analytics.indicators.averages import (
    DEMA,
    EMA,
    HMA,
    KAMA,
    MA,
    RMA,
    SMA,
    T3,
    TEMA,
    TRIMA,
    WMA,
    ZLEMA,
)
from marketpulse.analytics.indicators.base import Candle, Indicator
from marketpulse.analytics.indicators.catalog import (
    Kind,
    UnknownIndicator,
    catalog_entry,
    resolve,
    split,
)
from marketpulse.analytics.indicators.momentum import CCI, MACD, MFI, ROC, RSI, STOCH, STOCHF, WILLR
from marketpulse.analytics.indicators.oscillators import (
    CHANGES,
    CMO,
    COMBINATIONS,
    MACDEXT,
    MACDFIX,
    STOCHRSI,
    TRIX,
    Change,
    PriceOscillator,
)
from marketpulse.analytics.indicators.ranges import (
    AROON,
    AROONOSC,
    CUMSUM,
    MAX,
    MAXINDEX,
    MIDPOINT,
    MIDPRICE,
    MIN,
    MININDEX,
    MINMAX,
    MINMAXINDEX,
    SUM,
)
from marketpulse.analytics.indicators.statistics import (
    AVGDEV,
    BETA,
    CORREL,
    LINEARREG,
    LINEARREG_ANGLE,
    LINEARREG_INTERCEPT,
    LINEARREG_SLOPE,
    STDDEV,
    TSF,
    VAR,
)
from marketpulse.analytics.indicators.talib_functions import FUNCTIONS
from marketpulse.analytics.indicators.transforms import (
    AVGPRICE,
    BOP,
    MATH,
    MEDPRICE,
    OPERATORS,
    TYPPRICE,
    WCLPRICE,
    MathTransform,
    Operator,
)
from marketpulse.analytics.indicators.trend import (
    ADX,
    ADXR,
    DI,
    DX,
    MINUS_DI,
    MINUS_DM,
    PLUS_DI,
    PLUS_DM,
)
from marketpulse.analytics.indicators.volatility import (
    ATR,
    BBANDS,
    NATR,
    TRANGE,
    BBANDSFunction,
)
from marketpulse.analytics.indicators.volume import AD, ADOSC, OBV, VWAP, CumulativeVWAP

DEFAULT_SPECS = (
    "sma_20", "sma_50", "ema_12", "ema_26", "wma_20", "dema_20", "tema_20", "rsi_14",
    "macd_12_26_9", "stoch_14_3_3", "stochf_14_3", "bb_20_2", "trange", "atr_14", "adx_14",
    "di_14", "obv", "cci_20", "willr_14", "roc_10", "mfi_14", "vwap_session", "vwap_20",
)  # fmt: skip


STOCH_ORDER = ("fastk_period", "slowk_period", "slowd_period", "slowk_matype", "slowd_matype")
BB_ORDER = ("timeperiod", "nbdevup", "matype")


def _named(kind: str, cls: Callable[..., Indicator]) -> Callable[..., Indicator]:
    return lambda *params: cls(kind, *params)


KINDS: dict[str, Kind] = {
    "ma": Kind("MA", MA),
    "sma": Kind("SMA", SMA),
    "ema": Kind("EMA", EMA),
    "wma": Kind("WMA", WMA),
    "dema": Kind("DEMA", DEMA),
    "tema": Kind("TEMA", TEMA),
    "trima": Kind("TRIMA", TRIMA),
    "kama": Kind("KAMA", KAMA),
    "t3": Kind("T3", T3),
    "hma": Kind("HMA", HMA),
    "zlema": Kind("ZLEMA", ZLEMA),
    "rma": Kind("RMA", RMA),
    "rsi": Kind("RSI", RSI),
    "macd": Kind("MACD", MACD),
    # the engine's order: the periods first, then the MA types (``stoch_14_3_3``)
    "stoch": Kind("STOCH", STOCH, order=STOCH_ORDER),
    "stochf": Kind("STOCHF", STOCHF),
    # ``bb_<period>_<deviations>``: one deviation for both bands; ``bbands`` is TA-Lib's own
    "bb": Kind("BBANDS", BBANDS, order=BB_ORDER, tied={"nbdevdn": "nbdevup"}),
    "bbands": Kind("BBANDS", BBANDSFunction),
    "trange": Kind("TRANGE", TRANGE),
    "atr": Kind("ATR", ATR),
    "adx": Kind("ADX", ADX),
    "obv": Kind("OBV", OBV),
    "vwap": Kind("VWAP", CumulativeVWAP),
    "cci": Kind("CCI", CCI),
    "willr": Kind("WILLR", WILLR),
    "roc": Kind("ROC", ROC),
    "mfi": Kind("MFI", MFI),
    "sum": Kind("SUM", SUM),
    "cumsum": Kind("CUMSUM", CUMSUM),
    "max": Kind("MAX", MAX),
    "min": Kind("MIN", MIN),
    "maxindex": Kind("MAXINDEX", MAXINDEX),
    "minindex": Kind("MININDEX", MININDEX),
    "minmax": Kind("MINMAX", MINMAX),
    "minmaxindex": Kind("MINMAXINDEX", MINMAXINDEX),
    "midpoint": Kind("MIDPOINT", MIDPOINT),
    "midprice": Kind("MIDPRICE", MIDPRICE),
    "avgprice": Kind("AVGPRICE", AVGPRICE),
    "medprice": Kind("MEDPRICE", MEDPRICE),
    "typprice": Kind("TYPPRICE", TYPPRICE),
    "wclprice": Kind("WCLPRICE", WCLPRICE),
    "cmo": Kind("CMO", CMO),
    "macdext": Kind("MACDEXT", MACDEXT),
    "macdfix": Kind("MACDFIX", MACDFIX),
    "trix": Kind("TRIX", TRIX),
    "stochrsi": Kind("STOCHRSI", STOCHRSI),
    "aroon": Kind("AROON", AROON),
    "aroonosc": Kind("AROONOSC", AROONOSC),
    "plus_dm": Kind("PLUS_DM", PLUS_DM),
    "minus_dm": Kind("MINUS_DM", MINUS_DM),
    "plus_di": Kind("PLUS_DI", PLUS_DI),
    "minus_di": Kind("MINUS_DI", MINUS_DI),
    "dx": Kind("DX", DX),
    "adxr": Kind("ADXR", ADXR),
    "natr": Kind("NATR", NATR),
    "ad": Kind("AD", AD),
    "adosc": Kind("ADOSC", ADOSC),
    "bop": Kind("BOP", BOP),
    "var": Kind("VAR", VAR),
    "stddev": Kind("STDDEV", STDDEV),
    "avgdev": Kind("AVGDEV", AVGDEV),
    "linearreg": Kind("LINEARREG", LINEARREG),
    "linearreg_slope": Kind("LINEARREG_SLOPE", LINEARREG_SLOPE),
    "linearreg_intercept": Kind("LINEARREG_INTERCEPT", LINEARREG_INTERCEPT),
    "linearreg_angle": Kind("LINEARREG_ANGLE", LINEARREG_ANGLE),
    "tsf": Kind("TSF", TSF),
    "beta": Kind("BETA", BETA),
    "correl": Kind("CORREL", CORREL),
    **{kind: Kind(kind.upper(), _named(kind, Change)) for kind in CHANGES},
    **{kind: Kind(kind.upper(), _named(kind, PriceOscillator)) for kind in COMBINATIONS},
    **{kind: Kind(kind.upper(), _named(kind, MathTransform)) for kind in MATH},
    **{kind: Kind(kind.upper(), _named(kind, Operator)) for kind in OPERATORS},
}


def _own(kind: str, texts: list[str]) -> Indicator | None:
    """The engine's own kinds: ``di_<n>``, ``vwap_<n>``, ``vwap_session``."""
    if kind == "vwap_session" and not texts:
        return VWAP()
    if kind not in ("di", "vwap") or (kind == "vwap" and not texts):
        return None
    if len(texts) > 1 or not texts[-1:] or not texts[0].isdigit() or int(texts[0]) < 1:
        raise UnknownIndicator(f"{kind}_<n>: one period, a whole number of at least 1")
    period = int(texts[0])
    return DI(period) if kind == "di" else VWAP(period)


def build(spec: str) -> Indicator:
    """Make the indicator a spec names."""
    kind, texts = split(spec.strip().lower())
    own = _own(kind, texts) if kind in ("di", "vwap", "vwap_session") else None
    if own is not None:
        return own
    if kind not in KINDS and kind.upper() in FUNCTIONS:
        raise UnknownIndicator(f"TA-Lib's {kind.upper()} is not computed by the engine yet")
    return resolve(spec, KINDS).build()


def catalog() -> list[dict[str, Any]]:
    """Every TA-Lib kind at its defaults, with TA-Lib's names (``indicators --catalog``)."""
    return [catalog_entry(kind, entry) for kind, entry in sorted(KINDS.items())]


ALL = "all"


def expand(specs: Iterable[str]) -> list[str]:
    """The specs, with ``all`` standing for every spec of the catalog; each spec once, in
    order."""
    out: dict[str, None] = {}
    for spec in specs:
        for one in [e["spec"] for e in catalog()] if spec.strip().lower() == ALL else [spec]:
            out.setdefault(one, None)
    return list(out)


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
