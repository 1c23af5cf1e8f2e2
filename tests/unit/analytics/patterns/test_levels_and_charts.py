"""Swing points, levels, pivot points and chart patterns on constructed series with known
answers."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import orjson
import pytest

from marketpulse.analytics.patterns.charts import ChartConfig, ChartPatterns
from marketpulse.analytics.patterns.levels import LevelConfig, Levels, pivot_points

HOUR = 3_600 * 10**9
DAY = 24 * HOUR


def path(points: list[float], steps: int = 5) -> list[float]:
    """Closes moving in straight lines through ``points``, ``steps`` bars per leg."""
    out: list[float] = []
    for a, b in itertools.pairwise(points):
        out += [float(x) for x in np.linspace(a, b, steps, endpoint=False)]
    return [*out, float(points[-1])]


def run(closes: list[float], spread: float = 0.2) -> list[list[str]]:
    """Hourly bars around the closes; the names that fired on each bar."""
    levels, charts = Levels(LevelConfig()), ChartPatterns(ChartConfig())
    out = []
    for i, close in enumerate(closes):
        ts = 10 * DAY + i * HOUR
        fired, swings = levels.update(ts, close + spread, close - spread, close)
        fired += charts.update(ts, close, swings)
        out.append([f.name for f in fired if f.name != "pivot_points"])
    return out


def first(fired: list[list[str]], name: str) -> int | None:
    return next((i for i, names in enumerate(fired) if name in names), None)


def test_a_swing_high_is_known_two_bars_after_it() -> None:
    levels = Levels(LevelConfig(left=2, right=2))
    highs = [1.0, 2.0, 5.0, 2.0, 1.0, 3.0]
    found = []
    for i, h in enumerate(highs):
        _fired, swings = levels.update(i, h, h - 0.5, h - 0.2)
        found.append([(s.ts, s.price, s.high) for s in swings])
    # bar 3's low (1.5) is not below bar 4's (0.5): no swing low
    assert found == [[], [], [], [], [(2, 5.0, True)], []]


def test_swings_cluster_into_levels_and_a_close_through_a_confirmed_one_breaks_out() -> None:
    closes = path([95, 100, 96, 100.3, 97, 103])  # two tops at ~100, then through them
    fired = run(closes)
    highs = [i for i, names in enumerate(fired) if "swing_high" in names]
    assert len(highs) == 2
    breakout = first(fired, "breakout")
    assert breakout is not None
    level = (100.2 + 100.5) / 2  # the two swing highs (closes + 0.2 spread), averaged
    assert closes[breakout - 1] <= level < closes[breakout]
    assert breakout > highs[-1]
    assert first(fired, "breakdown") is None


def test_classic_pivot_points() -> None:
    assert pivot_points(110, 90, 100) == pytest.approx(
        {"p": 100, "r1": 110, "s1": 90, "r2": 120, "s2": 80, "r3": 130, "s3": 70}
    )


def test_pivots_come_from_the_completed_day_and_closes_crossing_them_fire() -> None:
    levels = Levels(LevelConfig())
    day1 = [(110.0, 95.0, 100.0), (105.0, 90.0, 100.0)]  # H 110, L 90, C 100
    day2 = [(101.0, 99.0, 100.0), (112.0, 100.0, 111.0), (111.0, 88.0, 89.0)]
    names: list[list[str]] = []
    for day, bars in ((1, day1), (2, day2)):
        for i, (h, lo, c) in enumerate(bars):
            fired, _ = levels.update(day * DAY + i * HOUR, h, lo, c)
            names.append([f.name for f in fired])
            if f"{day}{i}" == "20":
                assert fired[0].details == pytest.approx(pivot_points(110, 90, 100))
    assert names == [[], [], ["pivot_points"], ["pivot_breakout"], ["pivot_breakdown"]]


def test_double_top_fires_when_the_neckline_breaks() -> None:
    closes = path([90, 110, 100, 110.5, 95])
    fired = run(closes)
    at = first(fired, "double_top")
    assert at is not None
    assert closes[at] < 100 <= closes[at - 1]
    assert sum("double_top" in names for names in fired) == 1
    assert first(run(path([90, 110, 100, 110.5, 101, 115])), "double_top") is None


def test_double_bottom_fires_when_the_neckline_breaks() -> None:
    closes = path([110, 90, 100, 89.6, 105])
    at = first(run(closes), "double_bottom")
    assert at is not None
    assert closes[at] > 100 >= closes[at - 1]


def test_head_and_shoulders_and_its_inverse() -> None:
    closes = path([95, 110, 103, 118, 104, 110.5, 96])
    fired = run(closes)
    at = first(fired, "head_and_shoulders")
    assert at is not None
    assert closes[at] < 104.5  # below the neckline through the two troughs
    assert first(fired, "double_top") is None  # the shoulders are not tops of one level
    inverse = path([115, 100, 107, 92, 106, 99.5, 114])
    assert first(run(inverse), "inverse_head_and_shoulders") is not None
    no_head = path([95, 110, 103, 111, 104, 110.5, 96])  # the "head" barely above: no pattern
    assert first(run(no_head), "head_and_shoulders") is None


@pytest.mark.parametrize("cut", [3, 11, 20])
def test_levels_and_charts_restored_from_state_go_on_exactly(cut: int) -> None:
    closes = path([95, 110, 103, 118, 104, 110.5, 96])
    bars = [(10 * DAY + i * HOUR, c + 0.2, c - 0.2, c) for i, c in enumerate(closes)]

    def feed(levels: Levels, charts: ChartPatterns, part: list[tuple[int, float, float, float]]
             ) -> list[list[str]]:  # fmt: skip
        out = []
        for ts, h, lo, c in part:
            fired, swings = levels.update(ts, h, lo, c)
            out.append([f.name for f in fired + charts.update(ts, c, swings)])
        return out

    expected = feed(Levels(), ChartPatterns(), bars)
    levels, charts = Levels(), ChartPatterns()
    got = feed(levels, charts, bars[:cut])
    levels = Levels.from_state(LevelConfig(), orjson.loads(orjson.dumps(levels.state())))
    charts = ChartPatterns.from_state(ChartConfig(), orjson.loads(orjson.dumps(charts.state())))
    got += feed(levels, charts, bars[cut:])
    assert got == expected


def test_a_pending_shape_is_written_with_every_field_and_apart_from_the_live_one() -> None:
    closes = path([95, 110, 103, 109.8, 104])  # two tops, the neckline not broken yet
    levels, charts = Levels(), ChartPatterns()
    for i, close in enumerate(closes):
        ts = 10 * DAY + i * HOUR
        charts.update(ts, close, levels.update(ts, close + 0.2, close - 0.2, close)[1])
    assert charts.pending
    written = charts.state()["pending"]
    assert written == [dataclasses.asdict(p) for p in charts.pending]
    written[0]["details"].clear()
    assert charts.pending[0].details  # the state is a copy, not a view of the shape
