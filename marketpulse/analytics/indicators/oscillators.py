"""Oscillators of one price series and its averages: MOM, ROCP, ROCR, ROCR100, CMO, APO, PPO,
MACDEXT, MACDFIX, TRIX, STOCHRSI (TA-Lib's rules).

MACDEXT's two averages start from the same bar, as in TA-Lib: the faster takes its first input
as late as its shorter lookback allows (``Delayed``); APO's and PPO's each start on the first
bar.
"""

from __future__ import annotations

from collections.abc import Callable

from marketpulse.analytics.indicators.averages import (
    EMA,
    Average,
    Delayed,
    lookback,
    moving_average,
)
from marketpulse.analytics.indicators.base import Candle, Chosen, Function, Indicator, is_zero
from marketpulse.analytics.indicators.momentum import RSI, fast_k
from marketpulse.analytics.indicators.windows import Ring, RollingExtreme

CHANGES: dict[str, Callable[[float, float], float]] = {
    "mom": lambda now, back: now - back,
    "rocp": lambda now, back: (now - back) / back if back != 0.0 else 0.0,
    "rocr": lambda now, back: now / back if back != 0.0 else 0.0,
    "rocr100": lambda now, back: (now / back) * 100.0 if back != 0.0 else 0.0,
}


class Change(Chosen):
    """A function of the close and the close ``timeperiod`` bars back: MOM (the difference),
    ROCP (as a fraction), ROCR (the ratio), ROCR100 (the ratio in percent); 0 for a ratio to a
    zero close."""

    def __init__(self, kind: str, timeperiod: int) -> None:
        super().__init__(kind, timeperiod)
        self.window = Ring(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        back = self.window.push(candle.close)
        return None if back is None else (CHANGES[self.kind](candle.close, back),)


class CMO(Function):
    """Chande momentum oscillator: 100 (gains - losses) / (gains + losses), the gains and losses
    averaged as RSI's are (an SMA of the first n changes, then Wilder's)."""

    kind = "cmo"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.rsi = RSI(timeperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        rsi = self.rsi
        rsi.update(candle)
        if rsi.value is None:
            return None
        total = rsi.gain + rsi.loss
        return (100.0 * ((rsi.gain - rsi.loss) / total) if not is_zero(total) else 0.0,)


COMBINATIONS: dict[str, Callable[[float, float], float]] = {
    "apo": lambda fast, slow: fast - slow,
    "ppo": lambda fast, slow: ((fast - slow) / slow) * 100.0 if not is_zero(slow) else 0.0,
}


class PriceOscillator(Chosen):
    """APO (fast MA - slow MA) or PPO (the same in percent of the slow MA, 0 at a zero one) of
    the close; the periods swapped when given the other way round, as TA-Lib does."""

    def __init__(self, kind: str, fastperiod: int, slowperiod: int, matype: int) -> None:
        super().__init__(kind, fastperiod, slowperiod, matype)
        self.fast = moving_average(matype, min(fastperiod, slowperiod))
        self.slow = moving_average(matype, max(fastperiod, slowperiod))

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        fast = self.fast.push(candle.close)
        slow = self.slow.push(candle.close)
        if fast is None or slow is None:
            return None
        return (COMBINATIONS[self.kind](fast, slow),)


class _Convergence(Function):
    """A MACD: the line (fast - slow average), its signal average and the histogram."""

    talib_outputs: tuple[str, ...] = ("macd", "macdsignal", "macdhist")
    fast: Delayed | EMA
    slow: Delayed | EMA
    signal: Average

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        fast = self.fast.push(candle.close)
        slow = self.slow.push(candle.close)
        if fast is None or slow is None:
            return None
        line = fast - slow
        signal = self.signal.push(line)
        return None if signal is None else (line, signal, line - signal)


class MACDEXT(_Convergence):
    """MACD with an MA type per average: the line (fast - slow), its signal MA and the
    histogram; the periods (with their types) swapped when the slow one is the shorter."""

    kind = "macdext"

    def __init__(
        self, fastperiod: int, fastmatype: int, slowperiod: int, slowmatype: int,
        signalperiod: int, signalmatype: int,
    ) -> None:  # fmt: skip
        super().__init__(fastperiod, fastmatype, slowperiod, slowmatype, signalperiod, signalmatype)
        if slowperiod < fastperiod:
            fastperiod, slowperiod = slowperiod, fastperiod
            fastmatype, slowmatype = slowmatype, fastmatype
        fast_lookback = lookback(fastmatype, fastperiod)
        slow_lookback = lookback(slowmatype, slowperiod)
        longest = max(fast_lookback, slow_lookback)
        self.fast = Delayed(fastmatype, fastperiod, longest - fast_lookback)
        self.slow = Delayed(slowmatype, slowperiod, longest - slow_lookback)
        self.signal = moving_average(signalmatype, signalperiod)


class MACDFIX(_Convergence):
    """MACD 12/26 with TA-Lib's fixed factors (0.15 and 0.075, not 2/13 and 2/27), both EMAs
    seeded at bar 25 as MACD's are."""

    kind = "macdfix"

    def __init__(self, signalperiod: int) -> None:
        super().__init__(signalperiod)
        self.fast = EMA(12, seed_at=26)
        self.fast.k = 0.15
        self.slow = EMA(26)
        self.slow.k = 0.075
        self.signal = EMA(signalperiod)


class TRIX(Function):
    """The one-bar rate of change (in percent) of a triple EMA."""

    kind = "trix"

    def __init__(self, timeperiod: int) -> None:
        super().__init__(timeperiod)
        self.emas = [EMA(timeperiod) for _ in range(3)]
        self.previous: float | None = None

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        value: float | None = candle.close
        for ema in self.emas:
            value = ema.push(value) if value is not None else None
        if value is None:
            return None
        previous = self.previous
        self.previous = value
        if previous is None:
            return None
        return (((value / previous) - 1.0) * 100.0 if previous != 0.0 else 0.0,)


class STOCHRSI(Function):
    """The fast stochastic of the RSI: %K over ``fastk_period`` RSI values, %D its MA."""

    kind = "stochrsi"
    talib_outputs: tuple[str, ...] = ("fastk", "fastd")

    def __init__(
        self, timeperiod: int, fastk_period: int, fastd_period: int, fastd_matype: int
    ) -> None:
        super().__init__(timeperiod, fastk_period, fastd_period, fastd_matype)
        self.rsi = RSI(timeperiod)
        self.count = 0
        self.highest = RollingExtreme(fastk_period, highest=True)
        self.lowest = RollingExtreme(fastk_period, highest=False)
        self.fastd = moving_average(fastd_matype, fastd_period)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.rsi.update(candle)
        rsi = self.rsi.value
        if rsi is None:
            return None
        highest = self.highest.push(rsi)
        lowest = self.lowest.push(rsi)
        self.count += 1
        if self.count < self.highest.size:
            return None
        k = fast_k(rsi, highest, lowest)
        d = self.fastd.push(k)
        return None if d is None else (k, d)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    CMO,
    MACDEXT,
    MACDFIX,
    TRIX,
    STOCHRSI,
)
