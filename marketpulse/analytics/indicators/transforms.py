"""TA-Lib's bar-by-bar functions: price transforms (AVGPRICE, MEDPRICE, TYPPRICE, WCLPRICE),
math transforms of the close (ACOS ... TANH) and the operators on two price fields (ADD, SUB,
MULT, DIV: high and low, as TA-Lib feeds them by default). No state, an output on every bar.

Outside its domain C's math gives NaN or an infinity where Python's raises; either is not a
number, and the engine leaves it out of the outputs, as it does every value that is not finite.
So these give NaN there, whichever of the three C gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from marketpulse.analytics.indicators.base import Candle, Chosen, Function, Indicator

NAN: Final = math.nan


def _acos(x: float) -> float:
    return math.acos(x) if -1.0 <= x <= 1.0 else NAN


def _asin(x: float) -> float:
    return math.asin(x) if -1.0 <= x <= 1.0 else NAN


def _ln(x: float) -> float:
    return math.log(x) if x > 0.0 else NAN


def _log10(x: float) -> float:
    return math.log10(x) if x > 0.0 else NAN


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else NAN


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return NAN


def _cosh(x: float) -> float:
    try:
        return math.cosh(x)
    except OverflowError:
        return NAN


def _sinh(x: float) -> float:
    try:
        return math.sinh(x)
    except OverflowError:
        return NAN


def _ceil(x: float) -> float:
    return float(math.ceil(x))


def _floor(x: float) -> float:
    return float(math.floor(x))


MATH: dict[str, Callable[[float], float]] = {
    "acos": _acos, "asin": _asin, "atan": math.atan, "ceil": _ceil, "cos": math.cos,
    "cosh": _cosh, "exp": _exp, "floor": _floor, "ln": _ln, "log10": _log10, "sin": math.sin,
    "sinh": _sinh, "sqrt": _sqrt, "tan": math.tan, "tanh": math.tanh,
}  # fmt: skip


class MathTransform(Chosen):
    """One of TA-Lib's math transforms of the close."""

    def step(self, candle: Candle) -> tuple[float, ...]:
        return (MATH[self.kind](candle.close),)


def _divide(a: float, b: float) -> float:
    return a / b if b != 0.0 else NAN


OPERATORS: dict[str, Callable[[float, float], float]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mult": lambda a, b: a * b,
    "div": _divide,
}


class Operator(Chosen):
    """ADD, SUB, MULT or DIV of the high and the low."""

    def step(self, candle: Candle) -> tuple[float, ...]:
        return (OPERATORS[self.kind](candle.high, candle.low),)


class AVGPRICE(Function):
    """(open + high + low + close) / 4."""

    kind = "avgprice"

    def step(self, candle: Candle) -> tuple[float, ...]:
        return ((candle.open + candle.high + candle.low + candle.close) / 4.0,)


class MEDPRICE(Function):
    """(high + low) / 2."""

    kind = "medprice"

    def step(self, candle: Candle) -> tuple[float, ...]:
        return ((candle.high + candle.low) / 2.0,)


class TYPPRICE(Function):
    """(high + low + close) / 3."""

    kind = "typprice"

    def step(self, candle: Candle) -> tuple[float, ...]:
        return ((candle.high + candle.low + candle.close) / 3.0,)


class WCLPRICE(Function):
    """(high + low + 2 close) / 4."""

    kind = "wclprice"

    def step(self, candle: Candle) -> tuple[float, ...]:
        return ((candle.high + candle.low + (candle.close * 2.0)) / 4.0,)


class BOP(Function):
    """Balance of power: (close - open) / (high - low), 0 for a bar with no range."""

    kind = "bop"

    def step(self, candle: Candle) -> tuple[float, ...]:
        spread = candle.high - candle.low
        return ((candle.close - candle.open) / spread if spread > 0.0 else 0.0,)


class HA(Function):
    """Heikin-Ashi candles: the close the bar's average price, the open the midpoint of the
    previous Heikin-Ashi open and close (the first: of the bar's open and close), the high
    and low widened to take both in."""

    kind = "ha"
    talib_outputs: tuple[str, ...] = ("haopen", "hahigh", "halow", "haclose")

    def __init__(self) -> None:
        super().__init__()
        self.seen = False
        self.ha_open = self.ha_close = 0.0

    def step(self, candle: Candle) -> tuple[float, ...]:
        if self.seen:
            ha_open = (self.ha_open + self.ha_close) / 2.0
        else:
            ha_open = (candle.open + candle.close) / 2.0
            self.seen = True
        ha_close = (candle.open + candle.high + candle.low + candle.close) / 4.0
        self.ha_open, self.ha_close = ha_open, ha_close
        high = max(candle.high, ha_open, ha_close)
        low = min(candle.low, ha_open, ha_close)
        return (ha_open, high, low, ha_close)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    AVGPRICE,
    MEDPRICE,
    TYPPRICE,
    WCLPRICE,
    BOP,
    HA,
)
