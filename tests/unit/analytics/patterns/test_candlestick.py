"""Every candlestick pattern equals TA-Lib's on every bar."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import orjson
import pytest
import talib
from talib import abstract

from marketpulse.analytics.patterns.candlestick import REGISTRY, lookback
from marketpulse.analytics.patterns.engine import CandlestickSet
from tests.market_data import SERIES as PUBLISHED_AND_WALKS
from tests.market_data import candles
from tests.oracles import Series
from tests.oracles import candlestick_outputs as ours

Bar = tuple[float, float, float, float]


def constructed(pattern: list[Bar]) -> Series:
    """Fourteen quiet bars (small bodies and ranges, so the pattern's candles stand out
    against TA-Lib's averages), then the pattern's bars."""
    return as_series([(100.0, 100.7, 99.8, 100.5)] * 14 + pattern)


def as_series(rows: list[Bar]) -> Series:
    """Bars as the oracles take them (a volume of 1 each)."""
    o, h, l, c = (np.array(column, dtype=float) for column in zip(*rows, strict=True))  # noqa: E741
    return Series(o, h, l, c, np.ones(len(o)))


def held(bar: list[float]) -> Bar:
    """A bar whose high and low were widened to hold its body."""
    o, h, l, c = bar  # noqa: E741
    return o, max(o, h, l, c), min(o, l, c), c


# Known answers for patterns too rare to show up in the random series: the last bar of each.
CONSTRUCTED: dict[str, tuple[int, list[Bar]]] = {
    # a white candle, then three black crows opening inside the last body, closing lower
    "cdl3blackcrows": (-100, [(112, 114, 111.5, 113.8), (113.5, 113.6, 111.0, 111.05),
                              (111.5, 111.6, 109.0, 109.02), (109.5, 109.6, 107.0, 107.0)]),
    # three rising whites, then a black opening above them and closing below where they began
    "cdl3linestrike": (100, [(105, 107.2, 104.8, 107), (106, 109.2, 105.8, 109),
                             (108, 111.2, 107.8, 111), (111.5, 111.8, 103.5, 104)]),
    # a long white, three small candles gapping up and drifting down inside it, a white breakout
    "cdlmathold": (100, [(100, 105.2, 99.8, 105), (106, 106.2, 105.5, 105.6),
                         (104.8, 105, 104.4, 104.5), (104.6, 104.8, 104.1, 104.2),
                         (104.4, 107.2, 104.3, 107)]),
    # a long black, a black gapping down, two lower candles, a white closing inside the gap
    "cdlbreakaway": (100, [(105, 105.2, 99.8, 100), (99.5, 99.6, 98.8, 99.0),
                           (98.8, 99.0, 98.3, 98.5), (98.4, 98.6, 97.9, 98.0),
                           (98.2, 99.9, 98.1, 99.8)]),
    # two black marubozu, a black gapping down with a long upper shadow, one engulfing it
    "cdlconcealbabyswall": (100, [(110, 110, 106, 106), (105.5, 105.5, 102, 102),
                                  (101, 103, 100.5, 100.8), (103.5, 103.6, 99.0, 99.2)]),
    # a long black with a longer lower shadow, a smaller black holding above its low, then a
    # small black marubozu inside the second
    "cdl3starsinsouth": (100, [(110, 110.2, 101, 106), (107, 107.1, 103, 105),
                               (104.5, 104.55, 103.95, 104.0)]),
}  # fmt: skip


# Known answers on the last bar where a rule's comparison ties exactly: its ``<`` against
# ``<=``, or which candle or average it reads, decides. After the fourteen quiet bars (bodies
# of 0.5), a first body of 5.5 makes the short bodies' average for the next candle exactly 1.0.
LONG_WHITE: Bar = (100.0, 105.7, 99.8, 105.5)
QUIET: Bar = (100.0, 100.75, 99.75, 100.5)  # on the quarter grid: every difference exact
HIKKAKE_NEAR: list[Bar] = [*[QUIET] * 4, (100, 103, 97, 101), (101.5, 102.5, 98, 98.4),
                           (99, 102, 98.5, 100), (99.5, 101.5, 98.25, 98.5)]  # fmt: skip


def mirrored(rows: list[Bar]) -> list[Bar]:
    """Each price p as 200 - p, high and low swapped: a bullish shape's bearish twin."""
    return [(200 - o, 200 - low, 200 - high, 200 - c) for o, high, low, c in rows]


AT_TIES: dict[str, tuple[str, int, list[Bar]]] = {
    # TA-Lib's mat hold wants each small body strictly under its average: 1.0 is not
    "mathold-second-body-at-its-average": ("cdlmathold", 0, [
        LONG_WHITE, (107.0, 107.1, 105.9, 106.0), (105.75, 105.9, 104.9, 105.0),
        (105.5, 105.6, 104.6, 104.75), (105.0, 108.2, 104.9, 108.0)]),
    "mathold-third-body-at-its-average": ("cdlmathold", 0, [
        LONG_WHITE, (107.0, 107.1, 106.4, 106.5), (106.0, 106.1, 104.9, 105.0),
        (105.5, 105.6, 104.6, 104.75), (105.0, 108.2, 104.9, 108.0)]),
    "mathold-fourth-body-at-its-average": ("cdlmathold", 0, [
        LONG_WHITE, (107.0, 107.1, 106.4, 106.5), (105.75, 105.9, 105.15, 105.25),
        (105.5, 105.6, 104.4, 104.5), (104.75, 108.2, 104.65, 108.0)]),
    # the fourth candle's bottom exactly at the first's close: not held within it
    "mathold-fourth-bottom-at-the-first-close": ("cdlmathold", 0, [
        LONG_WHITE, (107.0, 107.1, 106.15, 106.25), (106.25, 106.3, 105.2, 105.25),
        (106.0, 106.1, 105.4, 105.5), (105.75, 108.2, 105.65, 108.0)]),
    # a star's third body exactly the short bodies' average over the ten before it (eight
    # quiet bars, the first body of 5.5 and the star's 0.5): not longer than short
    "morningstar-third-body-at-its-average": ("cdlmorningstar", 0, [
        (105.5, 105.6, 99.9, 100.0), (99.5, 99.6, 98.9, 99.0), (100.75, 101.85, 100.7, 101.75)]),
    "eveningstar-third-body-at-its-average": ("cdleveningstar", 0, [
        (100.0, 105.6, 99.9, 105.5), (106.0, 106.6, 105.9, 106.5),
        (104.75, 104.8, 103.65, 103.75)]),
    # a modified hikkake whose first inside bar closes exactly "near" its low: 0.2 times the
    # average range of the five bars before it (four of 1.0, the first bar's 6.0), and the
    # same mirrored, exactly "near" its high: TA-Lib takes either
    "hikkakemod-close-near-its-low-exactly": ("cdlhikkakemod", 100, HIKKAKE_NEAR),
    "hikkakemod-close-near-its-high-exactly": ("cdlhikkakemod", -100, mirrored(HIKKAKE_NEAR)),
    # a mat hold after a black bar: only its first candle's colour counts
    "mathold-after-a-black-bar": ("cdlmathold", 100, [
        (100.5, 100.7, 99.8, 100.0), LONG_WHITE, (107.0, 107.1, 106.15, 106.25),
        (105.75, 105.9, 104.9, 105.0), (105.5, 105.6, 104.6, 104.75),
        (105.0, 108.2, 104.9, 108.0)]),
}  # fmt: skip


# Rough shapes of more patterns, for near misses only (whether each fires, TA-Lib says).
SHAPES: dict[str, list[Bar]] = {
    # a long black, a small body gapping down, a long white closing well into the first
    "morning-star": [(106, 106.25, 102.75, 103), (102, 102.5, 101.5, 102.25),
                     (102.5, 105.75, 102.25, 105.5)],
    # a long white, a small body gapping up, a long black closing well into the first
    "evening-star": [(100, 103.25, 99.75, 103), (104, 104.5, 103.5, 103.75),
                     (103.5, 103.75, 100.25, 100.5)],
    # a long white, a black opening above its high and closing below its midpoint
    "dark-cloud": [(100, 103.25, 99.75, 103), (103.5, 103.75, 101, 101.25)],
    # a long black, a white opening below its low and closing near its close (in/on neck)
    "neck": [(105, 105.25, 101.75, 102), (101.25, 102.25, 101, 102)],
    # a bar, an inside bar, a bar breaking lower, then a close above the inside bar's high
    # (hikkake, confirmed); the inside bar closes near its low for the modified form
    "hikkake": [(100, 102, 98, 101), (100.5, 101.5, 99, 99.25), (99.5, 101, 98.5, 99),
                (99, 100.5, 98.75, 100), (100.25, 102.25, 100, 102)],
    # the modified form: a bar, an inside bar closing at its low, a bar inside that, a bar
    # breaking lower, then a close above the second inside bar's high
    "hikkake-modified": [(100, 103, 97, 101), (101.5, 102.5, 98, 98), (99, 102, 98.5, 100),
                         (99.5, 101.5, 98.25, 98.5), (100, 103, 99.75, 102.5)],
}  # fmt: skip


def near_misses(bars: list[Bar], count: int, seed: int) -> Series:
    """``count`` variants of a pattern, each after quiet bars, on a grid of quarters so that
    differences are exact and ties happen: one to three of its prices moved by a quarter or a
    half, or made equal to another of its prices (most often the same price of another bar),
    highs and lows then widened to hold the body.
    They sit on both sides of each of the pattern's comparisons, where a rule's ``<`` and
    ``<=`` differ."""
    rng = np.random.default_rng(seed)
    rows: list[Bar] = []
    for _ in range(count):
        pattern = [[round(v * 4) / 4 for v in bar] for bar in bars]
        for _ in range(int(rng.integers(1, 4))):
            i, j = int(rng.integers(len(pattern))), int(rng.integers(4))
            if rng.random() < 0.5:
                pattern[i][j] += float(rng.choice([-0.5, -0.25, 0.25, 0.5]))
            else:  # a tie, most often with the same price of another bar (low with low, ...)
                k = j if rng.random() < 0.6 else int(rng.integers(4))
                pattern[i][j] = pattern[int(rng.integers(len(pattern)))][k]
        rows += [QUIET] * 12 + [held(bar) for bar in pattern]
    return as_series(rows)


def ties(bars: list[Bar]) -> Series:
    """Every variant of a pattern with one price made equal to the same price of another of its
    bars, or one body made exactly a quiet bar's or three times it (its colour kept; the
    averages over the quiet bars before are a quiet body's, so BodyLong and BodyShort compare
    it with its equal, BodyVeryLong with three times it), each after quiet bars, highs and lows
    widened to hold the body; the pattern as it is after quiet bars whose body is one of its
    own (the same ties, the other way round); then all of it mirrored (a price p as 200 - p,
    high and low swapped), which turns each bullish shape into its bearish twin. Where the
    random near misses may miss a tie, these sit on each one: the rules' ``<`` against ``<=``."""
    quiet_body = QUIET[3] - QUIET[0]
    pattern = [[round(v * 4) / 4 for v in bar] for bar in bars]
    variants = []
    for i, j, k in itertools.product(range(len(pattern)), range(4), range(len(pattern))):
        if i != k and pattern[i][j] != pattern[k][j]:
            variant = [list(bar) for bar in pattern]
            variant[i][j] = pattern[k][j]
            variants.append(variant)
    for i, times in itertools.product(range(len(pattern)), (1, 3)):
        variant = [list(bar) for bar in pattern]
        colour = 1 if variant[i][3] >= variant[i][0] else -1
        variant[i][3] = variant[i][0] + colour * times * quiet_body
        variants.append(variant)
    quiet = [QUIET] * len(variants)
    for bar in pattern:  # the pattern itself after quiet bars whose body is one of its own
        body = abs(bar[3] - bar[0])
        variants.append([list(bar) for bar in pattern])
        quiet.append((100.0, 100.25 + body, 99.75, 100.0 + body))
    rows: list[Bar] = []
    for before, variant in zip(quiet, variants, strict=True):
        rows += [before] * 12 + [held(bar) for bar in variant]
    return as_series(rows + mirrored(rows))


def boundaries(bars: list[Bar]) -> Series:
    """Each price of a pattern moved along the quarter grid, one at a time (up to three points
    either way), after each of the prefixes; kept are the variants on both sides of each step
    where TA-Lib's answer changes (any pattern's, on any of the variant's bars). A rule's
    threshold lies between the two or on one of them: where it lies on the grid (after the
    quiet bars, whose averages are a quiet bar's), one side is the tie at which a rule's ``<``
    and ``<=`` differ; after graded bars (twice: of a quiet bar's size, and of the pattern's
    largest body), each candle's averages are over bars of their own sizes, so that a rule
    reading another candle's average, or another candle, answers otherwise somewhere along
    the sweep, and the pattern's long bodies sit near their averages."""
    pattern = [[round(v * 4) / 4 for v in bar] for bar in bars]
    largest = max(1.0, round(max(abs(c - o) for o, _, _, c in pattern)))
    rows: list[Bar] = []
    for prefix in ([QUIET] * 12, graded(1.0), graded(largest)):
        kept: list[list[Bar]] = []
        for i, j in itertools.product(range(len(pattern)), range(4)):
            swept = []
            for step in SWEEP:
                variant = [list(bar) for bar in pattern]
                variant[i][j] += step
                swept.append([held(bar) for bar in variant])
            answers = talib_answers(prefix, swept)
            for k in range(1, len(swept)):
                if not np.array_equal(answers[k], answers[k - 1]):
                    kept += [v for v in (swept[k - 1], swept[k]) if v not in kept]
        rows += [row for variant in kept for row in prefix + variant]
    return as_series(rows)


SWEEP = [k / 4 for k in range(-12, 13)]


def graded(scale: float) -> list[Bar]:
    """Twelve white bars of bodies from a quarter to one and a half times ``scale``, in no
    order, a quarter of a shadow each side: on the quarter grid for a whole ``scale``."""
    bodies = (1.5, 0.25, 1.0, 0.5, 1.25, 0.75, 0.25, 1.0, 0.5, 0.75, 0.25, 0.5)
    return [(100.0, 100.25 + b * scale, 99.75, 100.0 + b * scale) for b in bodies]


def talib_answers(prefix: list[Bar], variants: list[list[Bar]]) -> np.ndarray:
    """TA-Lib's answer for every pattern on each variant's bars, each variant after
    ``prefix``: a row per variant."""
    series = as_series([row for variant in variants for row in prefix + variant])
    found = np.array([
        getattr(talib, name.upper())(series.open, series.high, series.low, series.close)
        for name in REGISTRY
    ])  # fmt: skip
    per_variant = found.T.reshape(len(variants), -1, len(REGISTRY))[:, len(prefix) :, :]
    return per_variant.reshape(len(variants), -1)


def penetration_ties(count: int, seed: int) -> Series:
    """Stars and abandoned babies whose third close lies exactly on the first body's
    penetration level, as rounding the product first puts it and as a fused multiply-add does
    (the two differ by an ulp on some), both ways up, at price levels from -1 to 100, each
    after quiet bars: where TA-Lib's arithmetic decides the pattern."""
    rng = np.random.default_rng(seed)
    rows: list[Bar] = []
    for _ in range(count):
        body = float(rng.choice([1, 2, 3, 5, 7, 11, 13]) * rng.choice([0.1, 0.25, 0.5, 0.3, 0.7]))
        close = float(
            rng.choice([0.0, 1.0, -1.0, 10.0, 100.0, 0.5, 3.0]) + rng.choice([0, 0.1, 0.37])
        )
        exact = Fraction(body) * Fraction(0.3)
        for third in {close + body * 0.3, float(Fraction(close) + exact)}:
            star = close - 0.5  # a doji gapping down, and a third candle gapping up from it
            rows += [QUIET] * 12 + [
                (close + body, close + body + 0.1, close - 0.1, close),
                (star, star + 0.01, star - 0.02, star),
                (third - 0.9 * body, third + 0.1, star + 0.1, third),
            ]
        for third in {close - body * 0.3, float(Fraction(close) - exact)}:
            star = close + 0.5
            rows += [QUIET] * 12 + [
                (close - body, close + 0.1, close - body - 0.1, close),
                (star, star + 0.02, star - 0.01, star),
                (third + 0.9 * body, star - 0.1, third - 0.1, third),
            ]
    return as_series(rows)


SERIES = {
    "shapes-1": lambda: candles(3000, 1),
    "shapes-2": lambda: candles(3000, 2),
    **{name: (lambda bars=bars: constructed(bars)) for name, (_, bars) in CONSTRUCTED.items()},
    **{name: (lambda bars=bars: constructed(bars)) for name, (_, _, bars) in AT_TIES.items()},
    **{
        f"{name}-near-misses": (lambda bars=bars, seed=seed: near_misses(bars, 400, seed))
        for seed, (name, bars) in enumerate(
            [*((n, b) for n, (_, b) in CONSTRUCTED.items()), *SHAPES.items()]
        )
    },
    **{
        f"{name}-ties": (lambda bars=bars: ties(bars))
        for name, bars in [*((n, b) for n, (_, b) in CONSTRUCTED.items()), *SHAPES.items()]
    },
    **{
        f"{name}-boundaries": (lambda bars=bars: boundaries(bars))
        for name, bars in [*((n, b) for n, (_, b) in CONSTRUCTED.items()), *SHAPES.items()]
    },
    "penetration-ties": lambda: penetration_ties(150, 3),
    **PUBLISHED_AND_WALKS,
}


@pytest.mark.parametrize("series_name", list(SERIES))
def test_every_pattern_equals_talib_on_every_bar(series_name: str) -> None:
    series = SERIES[series_name]()
    names = list(REGISTRY)
    got = ours(series, names)
    mismatched = {}
    for name in names:
        expected = getattr(talib, name.upper())(series.open, series.high, series.low, series.close)
        diff = [i for i, (x, y) in enumerate(zip(got[name], expected, strict=True)) if x != y]
        if diff:
            mismatched[name] = (len(diff), diff[:5], [int(expected[i]) for i in diff[:5]],
                                [got[name][i] for i in diff[:5]])  # fmt: skip
    assert mismatched == {}


def test_lookbacks_are_talibs() -> None:
    for name, pattern in REGISTRY.items():
        assert lookback(pattern) == abstract.Function(name.upper()).lookback, name


def test_the_test_series_exercise_every_pattern() -> None:
    fired = set()
    for make in SERIES.values():
        series = make()
        for name in REGISTRY:
            found = getattr(talib, name.upper())(series.open, series.high, series.low, series.close)
            if np.any(found):
                fired.add(name)
    assert set(REGISTRY) - fired == set()


@pytest.mark.parametrize("case", list(AT_TIES))
def test_a_tie_answers_as_talib_on_the_last_bar(case: str) -> None:
    name, expected, bars = AT_TIES[case]
    series = constructed(bars)
    assert ours(series, [name])[name][-1] == expected
    oracle = getattr(talib, name.upper())(series.open, series.high, series.low, series.close)
    assert oracle[-1] == expected


@pytest.mark.parametrize("name", list(CONSTRUCTED))
def test_the_constructed_series_show_their_pattern_on_the_last_bar(name: str) -> None:
    expected, bars = CONSTRUCTED[name]
    series = constructed(bars)
    assert ours(series, [name])[name][-1] == expected
    oracle = getattr(talib, name.upper())(series.open, series.high, series.low, series.close)
    assert oracle[-1] == expected


@pytest.mark.parametrize("cut", [3, 11, 12, 40, 2999])
def test_an_engine_restored_from_its_state_goes_on_exactly(cut: int) -> None:
    series = candles(3000, 5)
    bars = list(zip(series.open, series.high, series.low, series.close, strict=True))
    whole, first = CandlestickSet(), CandlestickSet()
    expected = [whole.update(*map(float, bar)) for bar in bars]
    got = [first.update(*map(float, bar)) for bar in bars[:cut]]
    state = orjson.loads(orjson.dumps(first.state()))  # as the table stores it
    resumed = CandlestickSet.from_state(state)
    got += [resumed.update(*map(float, bar)) for bar in bars[cut:]]
    assert got == expected
