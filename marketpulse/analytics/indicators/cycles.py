"""Ehlers' Hilbert-transform family: HT_DCPERIOD, HT_PHASOR, MAMA, HT_DCPHASE, HT_SINE,
HT_TRENDLINE and HT_TRENDMODE (TA-Lib's rules).

All share one transform of the close: a 4-bar WMA smooths the price; from bar 12 a Hilbert
transform (Ehlers' coefficients 0.0962 and 0.5769, scaled by the last period) gives the
in-phase and quadrature parts, with separate delay lines for even and odd bars as TA-Lib
keeps them (a bar's parity is its position in the series); the dominant cycle period follows
from their phase advance, clamped to 6-50 bars and smoothed. First output at bar 32; the
functions of the cycle's phase start the transform at bar 37 and give theirs at bar 63.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from marketpulse.analytics.indicators.base import Candle, Function, Indicator, Stateful
from marketpulse.analytics.indicators.windows import Ring

A = 0.0962
B = 0.5769
RAD_TO_DEG = 180.0 / (4.0 * math.atan(1))
FIRST_OUTPUT = 32  # bars before the transform's first output
LATE_START = 37  # the phase functions' transform starts here: first output at bar 63
LATE_FIRST_OUTPUT = 63
LATE_RAD_TO_DEG = 45.0 / math.atan(1)
DEG_TO_RAD: Final = 1.0 / LATE_RAD_TO_DEG
CIRCLE = math.atan(1) * 8.0  # 360 degrees in radians


class _Stage(Stateful):
    """One Hilbert stage of the transform (detrender, Q1, jI or jQ): its delay line of the last
    three scaled inputs and the previous input, kept separately for even and odd bars."""

    def __init__(self) -> None:
        self.even = [0.0, 0.0, 0.0]
        self.odd = [0.0, 0.0, 0.0]
        self.prev_even = 0.0
        self.prev_odd = 0.0
        self.prev_input_even = 0.0
        self.prev_input_odd = 0.0

    def apply(self, x: float, even: bool, at: int, scale: float) -> float:
        """The stage's output for input ``x`` at slot ``at`` of the bar's parity."""
        scaled = A * x
        if even:
            out = 0.0 - self.even[at]
            self.even[at] = scaled
            out += scaled
            out -= self.prev_even
            self.prev_even = B * self.prev_input_even
            out += self.prev_even
            self.prev_input_even = x
        else:
            out = 0.0 - self.odd[at]
            self.odd[at] = scaled
            out += scaled
            out -= self.prev_odd
            self.prev_odd = B * self.prev_input_odd
            out += self.prev_odd
            self.prev_input_odd = x
        return out * scale


class HilbertTransform(Stateful):
    """The transform shared by the family, one bar at a time, from bar ``start`` (12 for the
    functions with a first output at bar 32, 37 for those at bar 63: TA-Lib warms each up
    over its own lookback)."""

    def __init__(self, start: int = 12) -> None:
        self.start = start
        self.count = 0
        self.inputs = Ring(4)  # the WMA's last four prices
        self.wma_sub = 0.0
        self.wma_sum = 0.0
        self.smoothed = 0.0
        self.slot = 0  # position in the three-slot delay lines
        self.detrender = _Stage()
        self.q1_stage = _Stage()
        self.ji_stage = _Stage()
        self.jq_stage = _Stage()
        self.q1 = 0.0
        self.i1 = 0.0  # the in-phase part: the detrender three bars back
        self.i1_odd_prev2 = self.i1_odd_prev3 = 0.0
        self.i1_even_prev2 = self.i1_even_prev3 = 0.0
        self.i2 = self.q2 = 0.0
        self.re = self.im = 0.0
        self.period = 0.0
        self.smooth_period = 0.0

    def push(self, x: float) -> bool:
        """Take the next price; return whether the transform ran on it (from bar 12)."""
        t = self.count
        self.count = t + 1
        trailing = self.inputs.push(x)
        if t < 3:
            self.wma_sub += x
            self.wma_sum += x * (t + 1)
            return False
        self.wma_sub += x
        self.wma_sub -= 0.0 if trailing is None else trailing
        self.wma_sum += x * 4.0
        self.smoothed = self.wma_sum * 0.1
        self.wma_sum -= self.wma_sub
        if t < self.start:
            return False
        self._transform(t % 2 == 0)
        return True

    def _transform(self, even: bool) -> None:
        scale = 0.075 * self.period + 0.54
        at = self.slot
        detrender = self.detrender.apply(self.smoothed, even, at, scale)
        q1 = self.q1 = self.q1_stage.apply(detrender, even, at, scale)
        i1 = self.i1_even_prev3 if even else self.i1_odd_prev3
        ji = self.ji_stage.apply(i1, even, at, scale)
        jq = self.jq_stage.apply(q1, even, at, scale)
        if even:
            self.slot = 0 if at == 2 else at + 1
        q2 = 0.2 * (q1 + ji) + 0.8 * self.q2
        i2 = 0.2 * (i1 - jq) + 0.8 * self.i2
        if even:
            self.i1_odd_prev3 = self.i1_odd_prev2
            self.i1_odd_prev2 = detrender
        else:
            self.i1_even_prev3 = self.i1_even_prev2
            self.i1_even_prev2 = detrender
        self.i1 = i1
        self.re = 0.2 * (i2 * self.i2 + q2 * self.q2) + 0.8 * self.re
        self.im = 0.2 * (i2 * self.q2 - q2 * self.i2) + 0.8 * self.im
        self.q2, self.i2 = q2, i2
        previous = self.period
        period = previous
        if self.im != 0.0 and self.re != 0.0:
            period = 360.0 / (math.atan(self.im / self.re) * RAD_TO_DEG)
        period = min(period, 1.5 * previous)
        period = max(period, 0.67 * previous)
        period = min(max(period, 6.0), 50.0)
        self.period = 0.2 * period + 0.8 * previous
        self.smooth_period = 0.33 * self.period + 0.67 * self.smooth_period


class _Hilbert(Function):
    """A member of the family: the transform, and outputs from bar 32."""

    def __init__(self, *params: float) -> None:
        super().__init__(*params)
        self.transform = HilbertTransform()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        ran = self.transform.push(candle.close)
        out = self.read(candle.close) if ran else None
        return out if self.transform.count > FIRST_OUTPUT else None

    def read(self, price: float) -> tuple[float, ...]:
        """The outputs after the transform took ``price``."""
        raise NotImplementedError


class HT_DCPERIOD(_Hilbert):
    """The dominant cycle period, in bars."""

    kind = "ht_dcperiod"

    def read(self, price: float) -> tuple[float, ...]:
        return (self.transform.smooth_period,)


class HT_PHASOR(_Hilbert):
    """The phasor: in-phase and quadrature parts."""

    kind = "ht_phasor"
    talib_outputs: tuple[str, ...] = ("inphase", "quadrature")

    def read(self, price: float) -> tuple[float, ...]:
        return (self.transform.i1, self.transform.q1)


class Adaptive(Stateful):
    """MESA's adaptive averages over the transform: MAMA, an EMA of the price whose factor is
    ``fast_limit`` over the phase advance of the cycle (floored at ``slow_limit``), and FAMA,
    which follows MAMA at half that factor."""

    def __init__(self, fast_limit: float, slow_limit: float) -> None:
        self.fast_limit = fast_limit
        self.slow_limit = slow_limit
        self.transform = HilbertTransform()
        self.phase = 0.0
        self.mama = 0.0
        self.fama = 0.0

    def push(self, price: float) -> bool:
        """Take the next price; return whether MAMA and FAMA are defined (from bar 32)."""
        transform = self.transform
        if not transform.push(price):
            return False
        i1 = transform.i1
        phase = math.atan(transform.q1 / i1) * RAD_TO_DEG if i1 != 0.0 else 0.0
        advance = max(self.phase - phase, 1.0)
        self.phase = phase
        if advance > 1.0:
            alpha = max(self.fast_limit / advance, self.slow_limit)
        else:
            alpha = self.fast_limit
        self.mama = alpha * price + (1.0 - alpha) * self.mama
        alpha *= 0.5
        self.fama = alpha * self.mama + (1.0 - alpha) * self.fama
        return transform.count > FIRST_OUTPUT


class MAMA(Function):
    """MESA adaptive moving average (``mama``) and its following average (``fama``)."""

    kind = "mama"
    talib_outputs: tuple[str, ...] = ("mama", "fama")

    def __init__(self, fastlimit: float, slowlimit: float) -> None:
        super().__init__(fastlimit, slowlimit)
        self.adaptive = Adaptive(fastlimit, slowlimit)

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        adaptive = self.adaptive
        return (adaptive.mama, adaptive.fama) if adaptive.push(candle.close) else None


class Phase(Stateful):
    """The dominant cycle's phase and what follows from it, from bar 37 (first output at 63):
    the phase (the smoothed prices of the last period correlated with a sine and a cosine), the
    sine wave and its 45-degree lead, the instantaneous trendline (the raw price averaged over
    the period, WMA-smoothed) and the trend mode (1 trending, 0 cycling)."""

    def __init__(self) -> None:
        self.transform = HilbertTransform(LATE_START)
        self.smoothed: list[float] = [0.0] * 50  # the last 50 smoothed prices, a ring
        self.at = 0
        self.prices = Ring(50)
        self.phase = 0.0
        self.sine = self.lead_sine = 0.0
        self.trend1 = self.trend2 = self.trend3 = 0.0
        self.trendline = 0.0
        self.days_in_trend = 0
        self.trend = 0

    def push(self, price: float) -> bool:
        """Take the next price; return whether the outputs are defined (from bar 63)."""
        transform = self.transform
        self.prices.push(price)
        if not transform.push(price):
            return False
        self.smoothed[self.at] = transform.smoothed
        period = transform.smooth_period
        previous_phase = self.phase
        self._phase(period)
        previous_sine, previous_lead = self.sine, self.lead_sine
        self.sine = math.sin(self.phase * DEG_TO_RAD)
        self.lead_sine = math.sin((self.phase + 45) * DEG_TO_RAD)
        self._trendline(period)
        self._trend(period, previous_phase, previous_sine, previous_lead)
        self.at = 0 if self.at == 49 else self.at + 1
        return transform.count > LATE_FIRST_OUTPUT

    def _phase(self, period: float) -> None:
        cycle = int(period + 0.5)
        real = imaginary = 0.0
        at = self.at
        for i in range(cycle):
            angle = i * CIRCLE / cycle
            value = self.smoothed[at]
            real += math.sin(angle) * value
            imaginary += math.cos(angle) * value
            at = 49 if at == 0 else at - 1
        size = abs(imaginary)
        if size > 0.0:
            self.phase = math.atan(real / imaginary) * LATE_RAD_TO_DEG
        elif size <= 0.01:
            if real < 0.0:
                self.phase -= 90.0
            elif real > 0.0:
                self.phase += 90.0
        self.phase += 90.0
        self.phase += 360.0 / period  # the smoothing WMA's one-bar lag
        if imaginary < 0.0:
            self.phase += 180.0
        if self.phase > 315.0:
            self.phase -= 360.0

    def _trendline(self, period: float) -> None:
        cycle = int(period + 0.5)
        prices = self.prices.ordered()
        total = 0.0
        for value in reversed(prices[len(prices) - cycle :]):
            total += value
        average = total / cycle if cycle > 0 else total
        self.trendline = (
            4.0 * average + 3.0 * self.trend1 + 2.0 * self.trend2 + self.trend3
        ) / 10.0
        self.trend3, self.trend2, self.trend1 = self.trend2, self.trend1, average

    def _trend(
        self, period: float, previous_phase: float, previous_sine: float, previous_lead: float
    ) -> None:
        trend = 1
        sine, lead = self.sine, self.lead_sine
        if (sine > lead and previous_sine <= previous_lead) or (
            sine < lead and previous_sine >= previous_lead
        ):
            self.days_in_trend = 0
            trend = 0
        self.days_in_trend += 1
        if self.days_in_trend < 0.5 * period:
            trend = 0
        advance = self.phase - previous_phase
        if period != 0.0 and 0.67 * 360.0 / period < advance < 1.5 * 360.0 / period:
            trend = 0
        smoothed = self.smoothed[self.at]
        line = self.trendline
        if line != 0.0 and abs((smoothed - line) / line) >= 0.015:
            trend = 1
        self.trend = trend


class _Phased(Function):
    """A function of the cycle's phase, from bar 63."""

    def __init__(self) -> None:
        super().__init__()
        self.phase = Phase()

    def step(self, candle: Candle) -> tuple[float, ...] | None:
        return self.read() if self.phase.push(candle.close) else None

    def read(self) -> tuple[float, ...]:
        """The outputs of this bar."""
        raise NotImplementedError


class HT_DCPHASE(_Phased):
    """The dominant cycle phase, in degrees."""

    kind = "ht_dcphase"

    def read(self) -> tuple[float, ...]:
        return (self.phase.phase,)


class HT_SINE(_Phased):
    """The sine wave of the cycle's phase and its 45-degree lead."""

    kind = "ht_sine"
    talib_outputs: tuple[str, ...] = ("sine", "leadsine")

    def read(self) -> tuple[float, ...]:
        return (self.phase.sine, self.phase.lead_sine)


class HT_TRENDLINE(_Phased):
    """The instantaneous trendline."""

    kind = "ht_trendline"

    def read(self) -> tuple[float, ...]:
        return (self.phase.trendline,)


class HT_TRENDMODE(_Phased):
    """The trend mode: 1 trending, 0 cycling."""

    kind = "ht_trendmode"
    talib_outputs: tuple[str, ...] = ("integer",)

    def read(self) -> tuple[float, ...]:
        return (float(self.phase.trend),)


# The classes here named after the TA-Lib function each computes: the registry's kinds.
TALIB_NAMED: tuple[Callable[..., Indicator], ...] = (
    HT_DCPERIOD,
    HT_PHASOR,
    MAMA,
    HT_DCPHASE,
    HT_SINE,
    HT_TRENDLINE,
    HT_TRENDMODE,
)
