"""Momentum and oscillators: RSI, MACD, STOCH, STOCHF, WILLR, ROC, CCI, MFI (TA-Lib's rules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketpulse.analytics.indicators.averages import EMA, moving_average
from marketpulse.analytics.indicators.base import (
    Candle,
    Function,
    Indicator,
    Periodic,
    is_zero_scaled,
)
from marketpulse.analytics.indicators.windows import HighLow, Ring


class RSI(Periodic):
    """Wilder's RSI: gains and losses averaged by SMA over the first n changes, then smoothed."""

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "rsi")
        self.prev_close: float | None = None
        self.changes = 0
        self.gain = 0.0
        self.loss = 0.0

    def update(self, candle: Candle) -> None:
        x = candle.close
        prev = self.prev_close
        self.prev_close = x
        if prev is None:
            return
        change = x - prev
        n = self.period
        self.changes += 1
        if self.changes > n:
            self.gain *= n - 1
            self.loss *= n - 1
        if change < 0:
            self.loss -= change
        else:
            self.gain += change
        if self.changes < n:
            return
        self.gain /= n
        self.loss /= n
        total = self.gain + self.loss
        # An exact test, as TA-Lib's now is: a fixed band would zero the RSI of an instrument
        # quoted small enough to move less than it (TA-Lib issue #253).
        self.value = 100.0 * (self.gain / total) if total > 0.0 else 0.0

    def peek_value(self, candle: Candle) -> float | None:
        prev = self.prev_close
        n = self.period
        if prev is None or self.changes + 1 < n:
            return self.value
        change = candle.close - prev
        gain, loss = self.gain, self.loss
        if self.changes + 1 > n:
            gain *= n - 1
            loss *= n - 1
        if change < 0:
            loss -= change
        else:
            gain += change
        gain /= n
        loss /= n
        total = gain + loss
        return 100.0 * (gain / total) if total > 0.0 else 0.0


class MACD(Indicator):
    """MACD line, signal and histogram.

    Both EMAs are seeded at bar slow-1 (the fast one with the SMA of its last ``fast`` inputs),
    so the first output is at bar slow+signal-2, as TA-Lib does.
    """

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        fast, slow = min(fast, slow), max(fast, slow)
        self.fast, self.slow, self.signal_period = fast, slow, signal
        suffix = f"{fast}_{slow}_{signal}"
        self.name = f"macd_{suffix}"
        self.outputs = (f"macd_{suffix}", f"macdsignal_{suffix}", f"macdhist_{suffix}")
        self.fast_ema = EMA(fast, seed_at=slow)
        self.slow_ema = EMA(slow)
        self.signal_ema = EMA(signal)
        self.line: float | None = None

    def params(self) -> tuple[Any, ...]:
        return (self.fast, self.slow, self.signal_period)

    def update(self, candle: Candle) -> None:
        fast = self.fast_ema.push(candle.close)
        slow = self.slow_ema.push(candle.close)
        if fast is None or slow is None:
            return
        self.line = fast - slow
        self.signal_ema.push(self.line)

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        fast = self.fast_ema.peek_push(candle.close)
        slow = self.slow_ema.peek_push(candle.close)
        if fast is None or slow is None:
            self.write(out)
            return self.initialized
        line = fast - slow
        signal = self.signal_ema.peek_push(line)
        if signal is None:
            return False
        line_name, signal_name, hist_name = self.outputs
        out[line_name] = line
        out[signal_name] = signal
        out[hist_name] = line - signal
        return True

    @property
    def initialized(self) -> bool:
        return self.signal_ema.value is not None

    def values(self) -> dict[str, float]:
        signal = self.signal_ema.value
        if signal is None or self.line is None:
            return {}
        line_name, signal_name, hist_name = self.outputs
        return {line_name: self.line, signal_name: signal, hist_name: self.line - signal}


def fast_k(close: float, highest: float, lowest: float) -> float:
    diff = (highest - lowest) / 100.0
    return (close - lowest) / diff if diff != 0.0 else 0.0


class STOCH(Indicator):
    """Slow stochastic: fast %K over ``fastk`` bars, slow %K its MA over ``slowk``, slow %D the
    MA of that over ``slowd`` (SMAs unless MA types are given: TA-Lib's order of parameters).

    Named ``stoch_<fastk>_<slowk>_<slowd>``, with the two MA types after when not SMAs."""

    def __init__(
        self, fastk: int = 5, slowk: int = 3, slowk_matype: int = 0, slowd: int = 3,
        slowd_matype: int = 0,
    ) -> None:  # fmt: skip
        self.fastk, self.slowk_period, self.slowd_period = fastk, slowk, slowd
        self.slowk_matype, self.slowd_matype = slowk_matype, slowd_matype
        suffix = f"{fastk}_{slowk}_{slowd}"
        if slowk_matype or slowd_matype:
            suffix += f"_{slowk_matype}_{slowd_matype}"
        self.name = f"stoch_{suffix}"
        self.outputs = (f"stoch_slowk_{suffix}", f"stoch_slowd_{suffix}")
        self.range = HighLow(fastk)
        self.slowk = moving_average(slowk_matype, slowk)
        self.slowd = moving_average(slowd_matype, slowd)

    def params(self) -> tuple[Any, ...]:
        return (
            self.fastk, self.slowk_period, self.slowk_matype, self.slowd_period,
            self.slowd_matype,
        )  # fmt: skip

    def update(self, candle: Candle) -> None:
        window = self.range.push(candle.high, candle.low)
        if window is None:
            return
        k = self.slowk.push(fast_k(candle.close, window[0], window[1]))
        if k is not None:
            self.slowd.push(k)

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        window = self.range.peek(candle.high, candle.low)
        if window is None:
            self.write(out)
            return self.initialized
        k = self.slowk.peek_push(fast_k(candle.close, window[0], window[1]))
        d = None if k is None else self.slowd.peek_push(k)
        if k is None or d is None:
            return False
        out[self.outputs[0]] = k
        out[self.outputs[1]] = d
        return True

    @property
    def initialized(self) -> bool:
        return self.slowd.value is not None

    def values(self) -> dict[str, float]:
        if self.slowd.value is None or self.slowk.value is None:
            return {}
        return {self.outputs[0]: self.slowk.value, self.outputs[1]: self.slowd.value}


class STOCHF(Indicator):
    """Fast stochastic: %K over ``fastk`` bars and %D its MA over ``fastd`` (an SMA unless an MA
    type is given, which then ends %D's name)."""

    def __init__(self, fastk: int = 5, fastd: int = 3, fastd_matype: int = 0) -> None:
        self.fastk_period, self.fastd_period, self.fastd_matype = fastk, fastd, fastd_matype
        suffix = f"{fastk}_{fastd}" + (f"_{fastd_matype}" if fastd_matype else "")
        self.name = f"stochf_{suffix}"
        self.outputs = (f"stochf_fastk_{fastk}", f"stochf_fastd_{suffix}")
        self.range = HighLow(fastk)
        self.k: float | None = None
        self.fastd = moving_average(fastd_matype, fastd)

    def params(self) -> tuple[Any, ...]:
        return (self.fastk_period, self.fastd_period, self.fastd_matype)

    def update(self, candle: Candle) -> None:
        window = self.range.push(candle.high, candle.low)
        if window is None:
            return
        self.k = fast_k(candle.close, window[0], window[1])
        self.fastd.push(self.k)

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        window = self.range.peek(candle.high, candle.low)
        if window is None:
            self.write(out)
            return self.initialized
        k = fast_k(candle.close, window[0], window[1])
        d = self.fastd.peek_push(k)
        if d is None:
            return False
        out[self.outputs[0]] = k
        out[self.outputs[1]] = d
        return True

    @property
    def initialized(self) -> bool:
        return self.fastd.value is not None

    def values(self) -> dict[str, float]:
        if self.fastd.value is None or self.k is None:
            return {}
        return {self.outputs[0]: self.k, self.outputs[1]: self.fastd.value}


class WILLR(Periodic):
    """Williams %R over ``period`` bars, in [-100, 0]."""

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "willr")
        self.range = HighLow(period)

    def update(self, candle: Candle) -> None:
        window = self.range.push(candle.high, candle.low)
        if window is None:
            return
        self.value = williams(candle.close, window[0], window[1])

    def peek_value(self, candle: Candle) -> float | None:
        window = self.range.peek(candle.high, candle.low)
        if window is None:
            return self.value
        return williams(candle.close, window[0], window[1])


def williams(close: float, highest: float, lowest: float) -> float:
    """%R of ``close`` in the window's range (0 for a range of nothing)."""
    diff = (highest - lowest) / (-100.0)
    return (highest - close) / diff if diff != 0.0 else 0.0


class ROC(Periodic):
    """Rate of change in percent against the close ``period`` bars back (0 when that is 0)."""

    def __init__(self, period: int = 10) -> None:
        super().__init__(period, "roc")
        self.window = Ring(period)

    def update(self, candle: Candle) -> None:
        back = self.window.push(candle.close)
        if back is None:
            return
        self.value = ((candle.close / back) - 1.0) * 100.0 if back != 0.0 else 0.0

    def peek_value(self, candle: Candle) -> float | None:
        window = self.window
        if not window.full:
            return self.value
        back = window.items[window.head]
        return ((candle.close / back) - 1.0) * 100.0 if back != 0.0 else 0.0


class CCI(Periodic):
    """Commodity channel index. The mean deviation needs the window: O(period) per bar."""

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "cci")
        self.window = Ring(period)

    def update(self, candle: Candle) -> None:
        typical = (candle.high + candle.low + candle.close) / 3
        self.window.push(typical)
        if self.window.full:
            self.value = self._index(typical, self.window.items)

    def peek_value(self, candle: Candle) -> float | None:
        typical = (candle.high + candle.low + candle.close) / 3
        window = self.window
        items = list(window.items)
        if window.full:
            items[window.head] = typical  # where push puts it
        else:
            items.append(typical)
        if len(items) < self.period:
            return self.value
        return self._index(typical, items)

    def _index(self, typical: float, items: list[float]) -> float:
        """The index of the latest typical price against the window's (``items`` in storage
        order, as TA-Lib's circular buffer sums them)."""
        n = self.period
        average = 0.0
        for item in items:
            average += item
        average /= n
        deviation = 0.0
        for item in items:
            deviation += abs(item - average)
        distance = typical - average
        deviation /= n
        scale = abs(average)
        if not is_zero_scaled(distance, scale) and not is_zero_scaled(deviation, scale):
            return distance / (0.015 * deviation)
        return 0.0


class MFI(Periodic):
    """Money flow index, with TA-Lib's current rules.

    A typical-price change within 1e-14 of the two prices counts as none; after a whole period
    of bars that bring no money flow the running sums are reset to exactly zero (they would
    otherwise hold rounding residue); the positive sum is clamped into [0, total].
    """

    def __init__(self, period: int = 14) -> None:
        super().__init__(period, "mfi")
        self.prev_typical: float | None = None
        self.positive = Ring(period)
        self.negative = Ring(period)
        self.pos_sum = 0.0
        self.neg_sum = 0.0
        self.null_run = 0

    def update(self, candle: Candle) -> None:
        typical = (candle.high + candle.low + candle.close) / 3.0
        prev = self.prev_typical
        self.prev_typical = typical
        if prev is None:
            return
        change = typical - prev
        dead = abs(change) <= 0.00000000000001 * (abs(typical) + abs(prev))
        flow = 0.0 if dead else typical * candle.volume
        positive, negative = (0.0, flow) if change < 0.0 else (flow, 0.0)
        old_positive = self.positive.push(positive)
        old_negative = self.negative.push(negative)
        if old_positive is not None and old_negative is not None:
            self.pos_sum -= old_positive
            self.neg_sum -= old_negative
        self.pos_sum += positive
        self.neg_sum += negative
        self.null_run = self.null_run + 1 if flow == 0.0 else 0
        if self.null_run >= self.period:
            self.null_run = self.period
            self.pos_sum = self.neg_sum = 0.0
        if self.positive.full:
            self.value = money_flow_index(self.pos_sum, self.neg_sum)

    def peek_value(self, candle: Candle) -> float | None:
        typical = (candle.high + candle.low + candle.close) / 3.0
        prev = self.prev_typical
        if prev is None:
            return self.value
        change = typical - prev
        dead = abs(change) <= 0.00000000000001 * (abs(typical) + abs(prev))
        flow = 0.0 if dead else typical * candle.volume
        positive, negative = (0.0, flow) if change < 0.0 else (flow, 0.0)
        pos_sum, neg_sum = self.pos_sum, self.neg_sum
        ring, other = self.positive, self.negative
        if ring.full:  # the two rings fill together: both evict
            pos_sum -= ring.items[ring.head]
            neg_sum -= other.items[other.head]
        pos_sum += positive
        neg_sum += negative
        if (self.null_run + 1 if flow == 0.0 else 0) >= self.period:
            pos_sum = neg_sum = 0.0
        if not (ring.full or len(ring.items) + 1 == self.period):
            return self.value
        return money_flow_index(pos_sum, neg_sum)


def money_flow_index(pos_sum: float, neg_sum: float) -> float:
    """MFI from the window's positive and negative flows, the positive clamped into [0, total]."""
    total = pos_sum + neg_sum
    clamped = 0.0 if pos_sum < 0.0 else min(pos_sum, total)
    return 0.0 if total <= 0.0 else 100.0 * (clamped / total)


class KDJ(Function):
    """KDJ: the slow stochastic's %K and %D (Wilder-smoothed by default) and J = 3K - 2D."""

    kind = "kdj"
    talib_outputs: tuple[str, ...] = ("k", "d", "j")

    def __init__(
        self, fastk_period: int, slowk_period: int, slowk_matype: int, slowd_period: int,
        slowd_matype: int,
    ) -> None:  # fmt: skip
        super().__init__(fastk_period, slowk_period, slowk_matype, slowd_period, slowd_matype)
        self.stoch = STOCH(fastk_period, slowk_period, slowk_matype, slowd_period, slowd_matype)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        self.stoch.update(candle)
        k, d = self.stoch.slowk.value, self.stoch.slowd.value
        if k is None or d is None:
            return None
        return (k, d, 3.0 * k - 2.0 * d)


class SMI(Function):
    """Stochastic momentum index: 100 x the double-smoothed distance of the close from the
    middle of the ``timeperiod`` range over half the double-smoothed range (EMAs over
    ``slowperiod`` then ``fastperiod``), and its EMA signal; both from the signal's first
    bar."""

    kind = "smi"
    talib_outputs: tuple[str, ...] = ("smi", "smisignal")

    def __init__(
        self, timeperiod: int, fastperiod: int, slowperiod: int, signalperiod: int
    ) -> None:
        super().__init__(timeperiod, fastperiod, slowperiod, signalperiod)
        self.range = HighLow(timeperiod)
        self.distance_slow, self.distance_fast = EMA(slowperiod), EMA(fastperiod)
        self.spread_slow, self.spread_fast = EMA(slowperiod), EMA(fastperiod)
        self.signal = EMA(signalperiod)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        window = self.range.push(candle.high, candle.low)
        if window is None:
            return None
        highest, lowest = window
        distance = _smoothed(
            self.distance_slow, self.distance_fast, candle.close - (highest + lowest) / 2.0
        )
        spread = _smoothed(self.spread_slow, self.spread_fast, highest - lowest)
        if distance is None or spread is None:
            return None
        smi = 100.0 * (distance / (0.5 * spread)) if spread != 0.0 else 0.0
        signal = self.signal.push(smi)
        return None if signal is None else (smi, signal)


def _smoothed(slow: EMA, fast: EMA, x: float) -> float | None:
    first = slow.push(x)
    return None if first is None else fast.push(first)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    RSI,
    MACD,
    STOCHF,
    CCI,
    WILLR,
    ROC,
    MFI,
    KDJ,
    SMI,
)
