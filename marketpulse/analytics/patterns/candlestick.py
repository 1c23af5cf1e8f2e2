"""TA-Lib's candlestick patterns (``CDL*``), one bar at a time, equal to TA-Lib on every bar.

Each pattern names the candle averages it compares with (setting and candle offset), its
first output bar (TA-Lib's lookback) and its rule. Outputs are TA-Lib's: +100 bullish, -100
bearish (some patterns only 100 or -100), ±80 for the weak forms of engulfing, harami and harami
cross, ±200 for a confirmed hikkake, 0 otherwise and before the first output bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any

from marketpulse.analytics.patterns.candles import (
    BODY_DOJI,
    BODY_LONG,
    BODY_SHORT,
    EQUAL,
    FAR,
    NEAR,
    SHADOW_LONG,
    SHADOW_SHORT,
    SHADOW_VERY_LONG,
    SHADOW_VERY_SHORT,
    CandleSetting,
    History,
)

Rule = Callable[[History, Sequence[float]], int]


def fused(price: float, body: float, penetration: float) -> float:
    """``price + body * penetration`` rounded once, as a fused multiply-add gives it.

    TA-Lib's library, as built for its Python wheels, works out a level above a close this way
    (the third candle of a morning star, of an abandoned baby) and a level below one
    (``price - body * penetration``) with the product rounded first: measured on thousands of
    closes placed exactly on the level either way rounds it, where each other rounding
    disagreed with TA-Lib on some (the candlestick tests keep a few hundred). With a
    penetration such as 0.3 the product is not exact, and the two roundings can put the level
    an ulp apart, on either side of such a close. Exact rational arithmetic, rounded once; a
    rule asks for it only once its pattern's cheaper conditions hold."""
    return float(Fraction(price) + Fraction(body) * Fraction(penetration))


@dataclass(frozen=True)
class Candlestick:
    """One pattern: ``make()`` gives its rule, called as ``rule(history, averages)`` with
    ``averages[n]`` for ``uses[n]``, over ``span`` candles. A stateful rule (hikkake) already
    runs ``warmup`` bars before its first output, as TA-Lib's does, to pick up patterns that
    started before. ``first`` overrides the lookback TA-Lib's rule gives (see
    :func:`lookback`). ``shared``: ``make()`` gives the same plain function every time, which
    every engine of a choice of patterns then shares; any other rule (a stateful one, or one a
    factory makes with its parameters) each engine makes for itself."""

    uses: tuple[tuple[CandleSetting, int], ...]
    make: Callable[[], Rule]
    span: int = 1
    first: int | None = None
    warmup: int = 0
    shared: bool = False


REGISTRY: dict[str, Candlestick] = {}


def lookback(pattern: Candlestick) -> int:
    """The pattern's first output bar, TA-Lib's lookback: the longest averaging period of its
    settings plus the candles before the last, unless the pattern gives its own."""
    if pattern.first is not None:
        return pattern.first
    return max((s.period for s, _ in pattern.uses), default=0) + pattern.span - 1


def register(
    name: str,
    make: Callable[[], Rule],
    *uses: tuple[CandleSetting, int],
    span: int,
    first: int | None = None,
    shared: bool = False,
) -> None:
    """Register a stateless pattern whose rule ``make()`` builds (when an engine is made, not
    at import, so a parameterised rule is made where the tests can see it: mutation testing
    runs a function's mutants against the tests that reached it)."""
    REGISTRY[name] = Candlestick(tuple(uses), make, span, first, shared=shared)


def candlestick(
    name: str, *uses: tuple[CandleSetting, int], span: int = 1, first: int | None = None
) -> Callable[[Rule], Rule]:
    """Register the decorated rule as the pattern ``name`` (see :func:`register`)."""

    def add(rule: Rule) -> Rule:
        register(name, lambda: rule, *uses, span=span, first=first, shared=True)
        return rule

    return add


# --- one candle -------------------------------------------------------------------------


@candlestick("cdldoji", (BODY_DOJI, 0))
def _doji(h: History, a: Sequence[float]) -> int:
    return 100 if h.body(0) <= a[0] else 0


@candlestick("cdldragonflydoji", (BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0))
def _dragonfly_doji(h: History, a: Sequence[float]) -> int:
    return 100 if h.body(0) <= a[0] and h.upper(0) < a[1] and h.lower(0) > a[1] else 0


@candlestick("cdlgravestonedoji", (BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0))
def _gravestone_doji(h: History, a: Sequence[float]) -> int:
    return 100 if h.body(0) <= a[0] and h.lower(0) < a[1] and h.upper(0) > a[1] else 0


@candlestick("cdllongleggeddoji", (BODY_DOJI, 0), (SHADOW_LONG, 0))
def _long_legged_doji(h: History, a: Sequence[float]) -> int:
    return 100 if h.body(0) <= a[0] and (h.lower(0) > a[1] or h.upper(0) > a[1]) else 0


@candlestick("cdlrickshawman", (BODY_DOJI, 0), (SHADOW_LONG, 0), (NEAR, 0))
def _rickshaw_man(h: History, a: Sequence[float]) -> int:
    mid = h.l[-1] + h.hl(0) / 2
    return (
        100
        if h.body(0) <= a[0]
        and h.lower(0) > a[1]
        and h.upper(0) > a[1]
        and h.bottom(0) <= mid + a[2]
        and h.top(0) >= mid - a[2]
        else 0
    )


@candlestick("cdltakuri", (BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0), (SHADOW_VERY_LONG, 0))
def _takuri(h: History, a: Sequence[float]) -> int:
    return 100 if h.body(0) <= a[0] and h.upper(0) < a[1] and h.lower(0) > a[2] else 0


@candlestick("cdlmarubozu", (BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))
def _marubozu(h: History, a: Sequence[float]) -> int:
    return h.color(0) * 100 if h.body(0) > a[0] and h.upper(0) < a[1] and h.lower(0) < a[1] else 0


@candlestick("cdlclosingmarubozu", (BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))
def _closing_marubozu(h: History, a: Sequence[float]) -> int:
    if h.body(0) <= a[0]:
        return 0
    white = h.color(0) == 1
    return h.color(0) * 100 if (h.upper(0) if white else h.lower(0)) < a[1] else 0


@candlestick("cdlbelthold", (BODY_LONG, 0), (SHADOW_VERY_SHORT, 0))
def _belt_hold(h: History, a: Sequence[float]) -> int:
    if h.body(0) <= a[0]:
        return 0
    white = h.color(0) == 1
    return h.color(0) * 100 if (h.lower(0) if white else h.upper(0)) < a[1] else 0


@candlestick("cdlspinningtop", (BODY_SHORT, 0))
def _spinning_top(h: History, a: Sequence[float]) -> int:
    body = h.body(0)
    return h.color(0) * 100 if body < a[0] and h.upper(0) > body and h.lower(0) > body else 0


@candlestick("cdllongline", (BODY_LONG, 0), (SHADOW_SHORT, 0))
def _long_line(h: History, a: Sequence[float]) -> int:
    return h.color(0) * 100 if h.body(0) > a[0] and h.upper(0) < a[1] and h.lower(0) < a[1] else 0


@candlestick("cdlshortline", (BODY_SHORT, 0), (SHADOW_SHORT, 0))
def _short_line(h: History, a: Sequence[float]) -> int:
    return h.color(0) * 100 if h.body(0) < a[0] and h.upper(0) < a[1] and h.lower(0) < a[1] else 0


@candlestick("cdlhighwave", (BODY_SHORT, 0), (SHADOW_VERY_LONG, 0))
def _high_wave(h: History, a: Sequence[float]) -> int:
    return h.color(0) * 100 if h.body(0) < a[0] and h.upper(0) > a[1] and h.lower(0) > a[1] else 0


# --- one candle against the one before ---------------------------------------------------

_HAMMER_SHAPE = ((BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0), (NEAR, 1))


@candlestick("cdlhammer", *_HAMMER_SHAPE, span=2)
def _hammer(h: History, a: Sequence[float]) -> int:
    shape = h.body(0) < a[0] and h.lower(0) > a[1] and h.upper(0) < a[2]
    return 100 if shape and h.bottom(0) <= h.l[-2] + a[3] else 0


@candlestick("cdlhangingman", *_HAMMER_SHAPE, span=2)
def _hanging_man(h: History, a: Sequence[float]) -> int:
    shape = h.body(0) < a[0] and h.lower(0) > a[1] and h.upper(0) < a[2]
    return -100 if shape and h.bottom(0) >= h.h[-2] - a[3] else 0


_STAR_SHAPE = ((BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0))


@candlestick("cdlinvertedhammer", *_STAR_SHAPE, span=2)
def _inverted_hammer(h: History, a: Sequence[float]) -> int:
    shape = h.body(0) < a[0] and h.upper(0) > a[1] and h.lower(0) < a[2]
    return 100 if shape and h.body_gap_down(0, 1) else 0


@candlestick("cdlshootingstar", *_STAR_SHAPE, span=2)
def _shooting_star(h: History, a: Sequence[float]) -> int:
    shape = h.body(0) < a[0] and h.upper(0) > a[1] and h.lower(0) < a[2]
    return -100 if shape and h.body_gap_up(0, 1) else 0


@candlestick("cdlengulfing", first=2)
def _engulfing(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    bullish = (
        h.color(0) == 1
        and h.color(1) == -1
        and ((c[-1] >= o[-2] and o[-1] < c[-2]) or (c[-1] > o[-2] and o[-1] <= c[-2]))
    )
    bearish = (
        h.color(0) == -1
        and h.color(1) == 1
        and ((o[-1] >= c[-2] and c[-1] < o[-2]) or (o[-1] > c[-2] and c[-1] <= o[-2]))
    )
    if not (bullish or bearish):
        return 0
    strong = o[-1] != c[-2] and c[-1] != o[-2]
    return h.color(0) * (100 if strong else 80)


def _inside(h: History, second_is_small: bool) -> int:
    """Harami's containment: 100-strength inside, 80 when a body edge touches."""
    if not second_is_small:
        return 0
    if h.top(0) < h.top(1) and h.bottom(0) > h.bottom(1):
        return -h.color(1) * 100
    if h.top(0) <= h.top(1) and h.bottom(0) >= h.bottom(1):
        return -h.color(1) * 80
    return 0


@candlestick("cdlharami", (BODY_LONG, 1), (BODY_SHORT, 0), span=2)
def _harami(h: History, a: Sequence[float]) -> int:
    return _inside(h, h.body(1) > a[0] and h.body(0) <= a[1])


@candlestick("cdlharamicross", (BODY_LONG, 1), (BODY_DOJI, 0), span=2)
def _harami_cross(h: History, a: Sequence[float]) -> int:
    return _inside(h, h.body(1) > a[0] and h.body(0) <= a[1])


@candlestick("cdldojistar", (BODY_LONG, 1), (BODY_DOJI, 0), span=2)
def _doji_star(h: History, a: Sequence[float]) -> int:
    if not (h.body(1) > a[0] and h.body(0) <= a[1]):
        return 0
    first = h.color(1)
    gapped = h.body_gap_up(0, 1) if first == 1 else h.body_gap_down(0, 1)
    return -first * 100 if gapped else 0


@candlestick("cdlpiercing", (BODY_LONG, 1), (BODY_LONG, 0), span=2)
def _piercing(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        100
        if h.color(1) == -1
        and h.body(1) > a[0]
        and h.color(0) == 1
        and h.body(0) > a[1]
        and o[-1] < h.l[-2]
        and c[-1] < o[-2]
        and c[-1] > c[-2] + h.body(1) * 0.5
        else 0
    )


def dark_cloud_cover(penetration: float = 0.5) -> Rule:
    """CDLDARKCLOUDCOVER with its penetration parameter."""

    def rule(h: History, a: Sequence[float]) -> int:
        o, c = h.o, h.c
        return (
            -100
            if h.color(1) == 1
            and h.body(1) > a[0]
            and h.color(0) == -1
            and o[-1] > h.h[-2]
            and c[-1] > o[-2]
            and c[-1] < c[-2] - h.body(1) * penetration
            else 0
        )

    return rule


register("cdldarkcloudcover", dark_cloud_cover, (BODY_LONG, 1), span=2)


@candlestick("cdlkicking", (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0), (BODY_LONG, 1),
             (BODY_LONG, 0), span=2)  # fmt: skip
def _kicking(h: History, a: Sequence[float]) -> int:
    if h.color(1) != -h.color(0):
        return 0
    marubozu = (
        h.body(1) > a[2]
        and h.upper(1) < a[0]
        and h.lower(1) < a[0]
        and h.body(0) > a[3]
        and h.upper(0) < a[1]
        and h.lower(0) < a[1]
    )
    gapped = h.gap_up(0, 1) if h.color(1) == -1 else h.gap_down(0, 1)
    return h.color(0) * 100 if marubozu and gapped else 0


# --- three candles -----------------------------------------------------------------------


def _star(penetration: float, bullish: bool) -> Rule:
    """Morning and evening (doji) stars: a long body, a small one gapped away from it, and a
    third candle closing well into the first."""

    def morning(h: History, a: Sequence[float]) -> int:
        b, col, c = h.b, h.col, h.c
        return (
            100
            if col[-3] == -1
            and col[-1] == 1
            and b[-3] > a[0]
            and b[-2] <= a[1]  # BodyDoji for the doji stars, else BodyShort
            and b[-1] > a[2]
            and h.body_gap_down(1, 2)
            and c[-1] > fused(c[-3], b[-3], penetration)
            else 0
        )

    def evening(h: History, a: Sequence[float]) -> int:
        b, col, c = h.b, h.col, h.c
        return (
            -100
            if col[-3] == 1
            and col[-1] == -1
            and b[-3] > a[0]
            and b[-2] <= a[1]
            and b[-1] > a[2]
            and h.body_gap_up(1, 2)
            and c[-1] < c[-3] - b[-3] * penetration
            else 0
        )

    return morning if bullish else evening


register("cdlmorningstar", partial(_star, 0.3, bullish=True),
         (BODY_LONG, 2), (BODY_SHORT, 1), (BODY_SHORT, 0), span=3)  # fmt: skip
register("cdleveningstar", partial(_star, 0.3, bullish=False),
         (BODY_LONG, 2), (BODY_SHORT, 1), (BODY_SHORT, 0), span=3)  # fmt: skip
register("cdlmorningdojistar", partial(_star, 0.3, bullish=True),
         (BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0), span=3)  # fmt: skip
register("cdleveningdojistar", partial(_star, 0.3, bullish=False),
         (BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0), span=3)  # fmt: skip


@candlestick("cdlabandonedbaby", (BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0), span=3)
def _abandoned_baby(h: History, a: Sequence[float]) -> int:
    if not (h.body(2) > a[0] and h.body(1) <= a[1] and h.body(0) > a[2]):
        return 0
    c, pen = h.c, 0.3
    if (
        h.color(2) == 1
        and h.color(0) == -1
        and c[-1] < c[-3] - h.body(2) * pen
        and h.gap_up(1, 2)
        and h.gap_down(0, 1)
    ):
        return -100
    if (
        h.color(2) == -1
        and h.color(0) == 1
        and h.gap_down(1, 2)
        and h.gap_up(0, 1)
        and c[-1] > fused(c[-3], h.body(2), pen)
    ):
        return 100
    return 0


@candlestick("cdl3inside", (BODY_LONG, 2), (BODY_SHORT, 1), span=3)
def _three_inside(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    if not (
        h.body(2) > a[0] and h.body(1) <= a[1] and h.top(1) < h.top(2) and h.bottom(1) > h.bottom(2)
    ):
        return 0
    if h.color(2) == 1 and h.color(0) == -1 and c[-1] < o[-3]:
        return -100
    if h.color(2) == -1 and h.color(0) == 1 and c[-1] > o[-3]:
        return 100
    return 0


@candlestick("cdl3outside", span=3, first=3)
def _three_outside(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    if h.color(1) == 1 and h.color(2) == -1 and c[-2] > o[-3] and o[-2] < c[-3] and c[-1] > c[-2]:
        return 100
    if h.color(1) == -1 and h.color(2) == 1 and o[-2] > c[-3] and c[-2] < o[-3] and c[-1] < c[-2]:
        return -100
    return 0


@candlestick("cdl3whitesoldiers", (SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1),
             (SHADOW_VERY_SHORT, 0), (NEAR, 2), (NEAR, 1), (FAR, 2), (FAR, 1), (BODY_SHORT, 0),
             span=3)  # fmt: skip
def _three_white_soldiers(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        100
        if h.color(2) == 1
        and h.upper(2) < a[0]
        and h.color(1) == 1
        and h.upper(1) < a[1]
        and h.color(0) == 1
        and h.upper(0) < a[2]
        and c[-1] > c[-2] > c[-3]
        and o[-2] > o[-3]
        and o[-2] <= c[-3] + a[3]
        and o[-1] > o[-2]
        and o[-1] <= c[-2] + a[4]
        and h.body(1) > h.body(2) - a[5]
        and h.body(0) > h.body(1) - a[6]
        and h.body(0) > a[7]
        else 0
    )


@candlestick("cdl3blackcrows", (SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1),
             (SHADOW_VERY_SHORT, 0), span=4)  # fmt: skip
def _three_black_crows(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        -100
        if h.color(3) == 1
        and h.color(2) == -1
        and h.lower(2) < a[0]
        and h.color(1) == -1
        and h.lower(1) < a[1]
        and h.color(0) == -1
        and h.lower(0) < a[2]
        and o[-2] < o[-3]
        and o[-2] > c[-3]
        and o[-1] < o[-2]
        and o[-1] > c[-2]
        and h.h[-4] > c[-3]
        and c[-3] > c[-2] > c[-1]
        else 0
    )


@candlestick("cdl2crows", (BODY_LONG, 2), span=3)
def _two_crows(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        -100
        if h.color(2) == 1
        and h.body(2) > a[0]
        and h.color(1) == -1
        and h.body_gap_up(1, 2)
        and h.color(0) == -1
        and o[-2] > o[-1] > c[-2]
        and o[-3] < c[-1] < c[-3]
        else 0
    )


@candlestick("cdlupsidegap2crows", (BODY_LONG, 2), (BODY_SHORT, 1), span=3)
def _upside_gap_two_crows(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        -100
        if h.color(2) == 1
        and h.body(2) > a[0]
        and h.color(1) == -1
        and h.body(1) <= a[1]
        and h.body_gap_up(1, 2)
        and h.color(0) == -1
        and o[-1] > o[-2]
        and c[-1] < c[-2]
        and c[-1] > c[-3]
        else 0
    )


@candlestick("cdlhomingpigeon", (BODY_LONG, 1), (BODY_SHORT, 0), span=2)
def _homing_pigeon(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        100
        if h.color(1) == -1
        and h.color(0) == -1
        and h.body(1) > a[0]
        and h.body(0) <= a[1]
        and o[-1] < o[-2]
        and c[-1] > c[-2]
        else 0
    )


@candlestick("cdlmatchinglow", (EQUAL, 1), span=2)
def _matching_low(h: History, a: Sequence[float]) -> int:
    c = h.c
    return (
        100
        if h.color(1) == -1 and h.color(0) == -1 and c[-2] - a[0] <= c[-1] <= c[-2] + a[0]
        else 0
    )


def _black_then_white_below(h: History, long_first: float) -> bool:
    """The start of in-neck, on-neck and thrusting: a long black, then a white opening below
    its low."""
    return h.color(1) == -1 and h.body(1) > long_first and h.color(0) == 1 and h.o[-1] < h.l[-2]


@candlestick("cdlinneck", (EQUAL, 1), (BODY_LONG, 1), span=2)
def _in_neck(h: History, a: Sequence[float]) -> int:
    c = h.c
    return -100 if _black_then_white_below(h, a[1]) and c[-2] <= c[-1] <= c[-2] + a[0] else 0


@candlestick("cdlonneck", (EQUAL, 1), (BODY_LONG, 1), span=2)
def _on_neck(h: History, a: Sequence[float]) -> int:
    low, c = h.l[-2], h.c[-1]
    return -100 if _black_then_white_below(h, a[1]) and low - a[0] <= c <= low + a[0] else 0


@candlestick("cdlthrusting", (EQUAL, 1), (BODY_LONG, 1), span=2)
def _thrusting(h: History, a: Sequence[float]) -> int:
    c = h.c
    return (
        -100
        if _black_then_white_below(h, a[1])
        and c[-1] > c[-2] + a[0]
        and c[-1] <= c[-2] + h.body(1) * 0.5
        else 0
    )


@candlestick("cdlseparatinglines", (SHADOW_VERY_SHORT, 0), (BODY_LONG, 0), (EQUAL, 1), span=2)
def _separating_lines(h: History, a: Sequence[float]) -> int:
    o = h.o
    if not (h.color(1) == -h.color(0) and o[-2] - a[2] <= o[-1] <= o[-2] + a[2]):
        return 0
    if h.body(0) <= a[1]:
        return 0
    white = h.color(0) == 1
    return h.color(0) * 100 if (h.lower(0) if white else h.upper(0)) < a[0] else 0


@candlestick("cdlcounterattack", (EQUAL, 1), (BODY_LONG, 1), (BODY_LONG, 0), span=2)
def _counterattack(h: History, a: Sequence[float]) -> int:
    c = h.c
    return (
        h.color(0) * 100
        if h.color(1) == -h.color(0)
        and h.body(1) > a[1]
        and h.body(0) > a[2]
        and c[-2] - a[0] <= c[-1] <= c[-2] + a[0]
        else 0
    )


@candlestick("cdlkickingbylength", (SHADOW_VERY_SHORT, 1), (SHADOW_VERY_SHORT, 0),
             (BODY_LONG, 1), (BODY_LONG, 0), span=2)  # fmt: skip
def _kicking_by_length(h: History, a: Sequence[float]) -> int:
    if not _kicking(h, a):
        return 0
    return h.color(0 if h.body(0) > h.body(1) else 1) * 100


@candlestick("cdlsticksandwich", (EQUAL, 2), span=3)
def _stick_sandwich(h: History, a: Sequence[float]) -> int:
    c = h.c
    return (
        100
        if h.color(2) == -1
        and h.color(1) == 1
        and h.color(0) == -1
        and h.l[-2] > c[-3]
        and c[-3] - a[0] <= c[-1] <= c[-3] + a[0]
        else 0
    )


@candlestick("cdltristar", (BODY_DOJI, 2), span=3)
def _tristar(h: History, a: Sequence[float]) -> int:
    # TA-Lib compares all three bodies with the first candle's doji average.
    if not (h.body(2) <= a[0] and h.body(1) <= a[0] and h.body(0) <= a[0]):
        return 0
    if h.body_gap_up(1, 2) and h.top(0) < h.top(1):
        return -100
    if h.body_gap_down(1, 2) and h.bottom(0) > h.bottom(1):
        return 100
    return 0


@candlestick("cdltasukigap", (NEAR, 1), span=3)
def _tasuki_gap(h: History, a: Sequence[float]) -> int:
    o, c, col = h.o, h.c, h.col
    if col[-2] == 1:
        found = (
            col[-1] == -1
            and h.body_gap_up(1, 2)
            and o[-2] < o[-1] < c[-2]
            and c[-1] < o[-2]
            and c[-1] > h.top(2)
        )
    else:
        found = (
            col[-1] == 1
            and h.body_gap_down(1, 2)
            and c[-2] < o[-1] < o[-2]
            and c[-1] > o[-2]
            and c[-1] < h.bottom(2)
        )
    return col[-2] * 100 if found and abs(h.body(1) - h.body(0)) < a[0] else 0


@candlestick("cdlgapsidesidewhite", (NEAR, 1), (EQUAL, 1), span=3)
def _gap_side_side_white(h: History, a: Sequence[float]) -> int:
    up = h.body_gap_up(1, 2) and h.body_gap_up(0, 2)
    down = h.body_gap_down(1, 2) and h.body_gap_down(0, 2)
    o = h.o
    if not (
        (up or down)
        and h.color(1) == 1
        and h.color(0) == 1
        and h.body(1) - a[0] <= h.body(0) <= h.body(1) + a[0]
        and o[-2] - a[1] <= o[-1] <= o[-2] + a[1]
    ):
        return 0
    return 100 if h.body_gap_up(1, 2) else -100


@candlestick("cdlunique3river", (BODY_LONG, 2), (BODY_SHORT, 0), span=3)
def _unique_three_river(h: History, a: Sequence[float]) -> int:
    o, c, low = h.o, h.c, h.l
    return (
        100
        if h.body(2) > a[0]
        and h.color(2) == -1
        and h.color(1) == -1
        and c[-2] > c[-3]
        and o[-2] <= o[-3]
        and low[-2] < low[-3]
        and h.body(0) < a[1]
        and h.color(0) == 1
        and o[-1] > low[-2]
        else 0
    )


@candlestick("cdlidentical3crows", (SHADOW_VERY_SHORT, 2), (SHADOW_VERY_SHORT, 1),
             (SHADOW_VERY_SHORT, 0), (EQUAL, 2), (EQUAL, 1), span=3)  # fmt: skip
def _identical_three_crows(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        -100
        if h.color(2) == -1
        and h.lower(2) < a[0]
        and h.color(1) == -1
        and h.lower(1) < a[1]
        and h.color(0) == -1
        and h.lower(0) < a[2]
        and c[-3] > c[-2] > c[-1]
        and c[-3] - a[3] <= o[-2] <= c[-3] + a[3]
        and c[-2] - a[4] <= o[-1] <= c[-2] + a[4]
        else 0
    )


@candlestick("cdl3linestrike", (NEAR, 3), (NEAR, 2), span=4)
def _three_line_strike(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    trend = h.color(1)
    if not (h.color(3) == h.color(2) == trend and h.color(0) == -trend):
        return 0
    if not (
        h.bottom(3) - a[0] <= o[-3] <= h.top(3) + a[0]
        and h.bottom(2) - a[1] <= o[-2] <= h.top(2) + a[1]
    ):
        return 0
    rising = trend == 1 and c[-2] > c[-3] > c[-4] and o[-1] > c[-2] and c[-1] < o[-4]
    falling = trend == -1 and c[-2] < c[-3] < c[-4] and o[-1] < c[-2] and c[-1] > o[-4]
    return trend * 100 if rising or falling else 0


@candlestick("cdlxsidegap3methods", span=3, first=2)
def _gap_three_methods(h: History, a: Sequence[float]) -> int:
    c = h.c
    first = h.color(2)
    if not (
        first == h.color(1) == -h.color(0)
        and h.bottom(1) < h.o[-1] < h.top(1)
        and h.bottom(2) < c[-1] < h.top(2)
        and (h.body_gap_up(1, 2) if first == 1 else h.body_gap_down(1, 2))
    ):
        return 0
    return first * 100


@candlestick("cdladvanceblock", (SHADOW_SHORT, 2), (SHADOW_SHORT, 1), (SHADOW_SHORT, 0),
             (SHADOW_LONG, 0), (NEAR, 2), (NEAR, 1), (FAR, 2), (FAR, 1), (BODY_LONG, 2),
             span=3)  # fmt: skip
def _advance_block(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    b2, b1, b0 = h.body(2), h.body(1), h.body(0)
    if not (
        h.color(2) == 1
        and h.color(1) == 1
        and h.color(0) == 1
        and c[-1] > c[-2] > c[-3]
        and o[-3] < o[-2] <= c[-3] + a[4]
        and o[-2] < o[-1] <= c[-2] + a[5]
        and b2 > a[8]
        and h.upper(2) < a[0]
    ):
        return 0
    weakening = (
        (b1 < b2 - a[6] and b0 < b1 + a[5])
        or b0 < b1 - a[7]
        or (b0 < b1 < b2 and (h.upper(0) > a[2] or h.upper(1) > a[1]))
        or (b0 < b1 and h.upper(0) > a[3])
    )
    return -100 if weakening else 0


@candlestick("cdlstalledpattern", (BODY_LONG, 2), (BODY_LONG, 1), (BODY_SHORT, 0),
             (SHADOW_VERY_SHORT, 1), (NEAR, 2), (NEAR, 1), span=3)  # fmt: skip
def _stalled_pattern(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        -100
        if h.color(2) == 1
        and h.color(1) == 1
        and h.color(0) == 1
        and c[-1] > c[-2] > c[-3]
        and h.body(2) > a[0]
        and h.body(1) > a[1]
        and h.upper(1) < a[3]
        and o[-3] < o[-2] <= c[-3] + a[4]
        and h.body(0) < a[2]
        and o[-1] >= c[-2] - h.body(0) - a[5]
        else 0
    )


@candlestick("cdl3starsinsouth", (BODY_LONG, 2), (SHADOW_LONG, 2), (SHADOW_VERY_SHORT, 1),
             (BODY_SHORT, 0), (SHADOW_VERY_SHORT, 0), span=3)  # fmt: skip
def _three_stars_in_the_south(h: History, a: Sequence[float]) -> int:
    o, c, hi, lo = h.o, h.c, h.h, h.l
    return (
        100
        if h.color(2) == -1
        and h.color(1) == -1
        and h.color(0) == -1
        and h.body(2) > a[0]
        and h.lower(2) > a[1]
        and h.body(1) < h.body(2)
        and c[-3] < o[-2] <= hi[-3]
        and lo[-3] <= lo[-2] < c[-3]
        and h.lower(1) > a[2]
        and h.body(0) < a[3]
        and h.lower(0) < a[4]
        and h.upper(0) < a[4]
        and lo[-1] > lo[-2]
        and hi[-1] < hi[-2]
        else 0
    )


@candlestick("cdlbreakaway", (BODY_LONG, 4), span=5)
def _breakaway(h: History, a: Sequence[float]) -> int:
    o, c, hi, lo = h.o, h.c, h.h, h.l
    first = h.color(4)
    if not (h.body(4) > a[0] and first == h.color(3) == h.color(1) == -h.color(0)):
        return 0
    falling = (
        first == -1
        and h.body_gap_down(3, 4)
        and hi[-3] < hi[-4]
        and lo[-3] < lo[-4]
        and hi[-2] < hi[-3]
        and lo[-2] < lo[-3]
        and o[-4] < c[-1] < c[-5]
    )
    rising = (
        first == 1
        and h.body_gap_up(3, 4)
        and hi[-3] > hi[-4]
        and lo[-3] > lo[-4]
        and hi[-2] > hi[-3]
        and lo[-2] > lo[-3]
        and c[-5] < c[-1] < o[-4]
    )
    return h.color(0) * 100 if falling or rising else 0


@candlestick("cdlconcealbabyswall", (SHADOW_VERY_SHORT, 3), (SHADOW_VERY_SHORT, 2),
             (SHADOW_VERY_SHORT, 1), span=4)  # fmt: skip
def _concealing_baby_swallow(h: History, a: Sequence[float]) -> int:
    hi, lo = h.h, h.l
    return (
        100
        if h.color(3) == -1
        and h.color(2) == -1
        and h.color(1) == -1
        and h.color(0) == -1
        and h.lower(3) < a[0]
        and h.upper(3) < a[0]
        and h.lower(2) < a[1]
        and h.upper(2) < a[1]
        and h.body_gap_down(1, 2)
        and h.upper(1) > a[2]
        and hi[-2] > h.c[-3]
        and hi[-1] > hi[-2]
        and lo[-1] < lo[-2]
        else 0
    )


@candlestick("cdlladderbottom", (SHADOW_VERY_SHORT, 1), span=5)
def _ladder_bottom(h: History, a: Sequence[float]) -> int:
    o, c = h.o, h.c
    return (
        100
        if h.color(4) == -1
        and h.color(3) == -1
        and h.color(2) == -1
        and o[-5] > o[-4] > o[-3]
        and c[-5] > c[-4] > c[-3]
        and h.color(1) == -1
        and h.upper(1) > a[0]
        and h.color(0) == 1
        and o[-1] > o[-2]
        and c[-1] > h.h[-2]
        else 0
    )


def mat_hold(penetration: float = 0.5) -> Rule:
    """CDLMATHOLD with its penetration parameter."""

    def rule(h: History, a: Sequence[float]) -> int:
        o, c, hi = h.o, h.c, h.h
        floor = c[-5] - h.body(4) * penetration
        return (
            100
            if h.body(4) > a[0]
            and h.body(3) < a[1]
            and h.body(2) < a[2]
            and h.body(1) < a[3]
            and h.color(4) == 1
            and h.color(3) == -1
            and h.color(0) == 1
            and h.body_gap_up(3, 4)
            and floor < h.bottom(2) < c[-5]
            and floor < h.bottom(1) < c[-5]
            and h.top(2) < o[-4]
            and h.top(1) < h.top(2)
            and o[-1] > c[-2]
            and c[-1] > max(hi[-4], hi[-3], hi[-2])
            else 0
        )

    return rule


register("cdlmathold", mat_hold, (BODY_LONG, 4), (BODY_SHORT, 3), (BODY_SHORT, 2), (BODY_SHORT, 1),
         span=5)  # fmt: skip


@candlestick("cdlrisefall3methods", (BODY_LONG, 4), (BODY_SHORT, 3), (BODY_SHORT, 2),
             (BODY_SHORT, 1), (BODY_LONG, 0), span=5)  # fmt: skip
def _rising_falling_three_methods(h: History, a: Sequence[float]) -> int:
    o, c, hi, lo = h.o, h.c, h.h, h.l
    trend = h.color(4)
    if not (
        h.body(4) > a[0]
        and h.body(3) < a[1]
        and h.body(2) < a[2]
        and h.body(1) < a[3]
        and h.body(0) > a[4]
        and trend == -h.color(3) == -h.color(2) == -h.color(1) == h.color(0)
    ):
        return 0
    held = all(h.bottom(k) < hi[-5] and h.top(k) > lo[-5] for k in (3, 2, 1))
    return (
        100 * trend
        if held
        and c[-3] * trend < c[-4] * trend
        and c[-2] * trend < c[-3] * trend
        and o[-1] * trend > c[-2] * trend
        and c[-1] * trend > c[-5] * trend
        else 0
    )


class Hikkake:
    """CDLHIKKAKE and CDLHIKKAKEMOD: an inside bar (two for the modified form, the first closing
    near its low or high) and a bar breaking out of it: ±100; a close beyond the inside bar's
    high (low) within three bars confirms it: ±200. The state is the pending pattern."""

    def __init__(self, modified: bool) -> None:
        self.modified = modified
        self.bar = 0  # absolute index of the pending pattern's bar; 0: none
        self.result = 0
        self.high = self.low = 0.0  # the inside bar's high and low

    def state(self) -> dict[str, bool | int | float]:
        """The pending pattern, JSON-ready (by name: a compiled rule has no ``__dict__``)."""
        return {"modified": self.modified, "bar": self.bar, "result": self.result,
                "high": self.high, "low": self.low}  # fmt: skip

    def load(self, state: dict[str, Any]) -> None:
        """Take the pending pattern of :meth:`state`."""
        self.modified, self.bar, self.result = state["modified"], state["bar"], state["result"]
        self.high, self.low = state["high"], state["low"]

    def __call__(self, h: History, a: Sequence[float]) -> int:
        hi, lo, c = h.h, h.l, h.c
        if self.modified:
            found = (
                hi[-3] < hi[-4]
                and lo[-3] > lo[-4]
                and hi[-2] < hi[-3]
                and lo[-2] > lo[-3]
                and (
                    (hi[-1] < hi[-2] and lo[-1] < lo[-2] and c[-3] <= lo[-3] + a[0])
                    or (hi[-1] > hi[-2] and lo[-1] > lo[-2] and c[-3] >= hi[-3] - a[0])
                )
            )
        else:
            found = (
                hi[-2] < hi[-3]
                and lo[-2] > lo[-3]
                and ((hi[-1] < hi[-2] and lo[-1] < lo[-2]) or (hi[-1] > hi[-2] and lo[-1] > lo[-2]))
            )
        bar = h.count - 1
        if found:
            self.result = 100 if hi[-1] < hi[-2] else -100
            self.bar, self.high, self.low = bar, hi[-2], lo[-2]
            return self.result
        if bar <= self.bar + 3 and (
            (self.result > 0 and c[-1] > self.high) or (self.result < 0 and c[-1] < self.low)
        ):
            self.bar = 0
            return self.result + (100 if self.result > 0 else -100)
        return 0


REGISTRY["cdlhikkake"] = Candlestick((), lambda: Hikkake(False), first=5, warmup=3)
REGISTRY["cdlhikkakemod"] = Candlestick(((NEAR, 2),), lambda: Hikkake(True), first=10, warmup=3)
