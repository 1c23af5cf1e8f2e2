"""Trend and momentum rules on constructed indicator values with known answers."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from marketpulse.analytics.patterns.fired import Fired
from marketpulse.analytics.patterns.trend import TrendConfig, TrendRules


def run(rows: list[dict[str, float]], config: TrendConfig | None = None) -> list[list[str]]:
    """Feed bars (``close`` plus indicator values); the names that fired on each."""
    rules = TrendRules(config or TrendConfig())
    out = []
    for row in rows:
        values = {k: v for k, v in row.items() if k != "close"}
        out.append([f"{f.name}:{f.direction}" for f in rules.update(row.get("close", 1.0), values)])
    return out


def test_moving_average_crosses_fire_on_the_crossing_bar_only() -> None:
    rows = [{"sma_20": a, "sma_50": b} for a, b in [(9, 10), (10, 10), (11, 10), (12, 10), (9, 10)]]
    assert run(rows) == [
        [], [], ["golden_cross_sma_20_sma_50:bullish"], [], ["death_cross_sma_20_sma_50:bearish"]
    ]  # fmt: skip
    pairs = TrendConfig(ma_pairs=(("ema_12", "ema_26"),))
    assert run(rows, pairs) == [[]] * 5  # only the configured pairs


def test_the_close_crossing_an_average_is_a_cross_of_its_own() -> None:
    """A pair may name the close: the bar's own price against its average, with no other
    value on the bar."""
    rows = [{"close": c, "sma_20": 10.0} for c in (9.0, 11.0, 12.0, 9.5)]
    price = TrendConfig(ma_pairs=(("close", "sma_20"),))
    assert run(rows, price) == [
        [], ["golden_cross_close_sma_20:bullish"], [], ["death_cross_close_sma_20:bearish"]
    ]  # fmt: skip


def test_a_touch_is_not_a_cross_but_leaving_it_is() -> None:
    # down to a touch: nothing; from the touch on down: a death cross
    rows = [{"sma_20": a, "sma_50": b} for a, b in [(11, 10), (10, 10), (9, 10)]]
    assert run(rows) == [[], [], ["death_cross_sma_20_sma_50:bearish"]]


def test_macd_signal_line_crosses() -> None:
    rows = [
        {"macd_12_26_9": m, "macdsignal_12_26_9": s} for m, s in [(-1, 0), (1, 0), (2, 1), (0, 1)]
    ]
    assert run(rows) == [[], ["macd_bullish_cross:bullish"], [], ["macd_bearish_cross:bearish"]]


def test_rsi_entering_and_leaving_the_zones() -> None:
    rows = [{"rsi_14": v} for v in [65, 72, 75, 68, 35, 28, 25, 31]]
    assert run(rows) == [
        [], ["rsi_enter_overbought:bearish"], [], ["rsi_exit_overbought:bearish"], [],
        ["rsi_enter_oversold:bullish"], [], ["rsi_exit_oversold:bullish"],
    ]  # fmt: skip


def bands(close: float, width: float) -> dict[str, float]:
    return {"close": close, "bb_upper_20_2": 100 + width, "bb_middle_20_2": 100.0,
            "bb_lower_20_2": 100 - width}  # fmt: skip


def test_bollinger_breakouts_fire_when_the_close_leaves_the_bands() -> None:
    rows = [bands(100, 5), bands(106, 5), bands(107, 5), bands(100, 5), bands(94, 5)]
    assert run(rows, TrendConfig(squeeze_lookback=50)) == [
        [], ["bb_breakout_up:bullish"], [], [], ["bb_breakout_down:bearish"]
    ]  # fmt: skip


def test_a_squeeze_is_the_narrowest_band_of_the_lookback_and_fires_once() -> None:
    widths = [5, 6, 7, 6, 5, 4, 3, 3, 5, 6, 7, 8, 2]
    fired = run([bands(100, w) for w in widths], TrendConfig(squeeze_lookback=4))
    # bar 4 is as narrow as the narrowest of the four before it; bars 5-7 stay squeezed; bar
    # 8 widens, which ends the squeeze; bar 12 is a new low
    assert [i for i, names in enumerate(fired) if names] == [4, 12]
    assert fired[4] == ["bb_squeeze:neutral"]


def test_adx_regime_changes() -> None:
    rows = [{"adx_14": a, "plus_di_14": p, "minus_di_14": m}
            for a, p, m in [(15, 20, 25), (22, 20, 25), (26, 30, 20), (30, 30, 20), (19, 20, 22),
                            (27, 10, 30)]]  # fmt: skip
    assert run(rows) == [
        [], [], ["adx_trend_start:bullish"], [], ["adx_trend_end:neutral"],
        ["adx_trend_start:bearish"],
    ]  # fmt: skip


def test_missing_indicators_fire_nothing() -> None:
    assert run([{"close": 1.0}, {"close": 2.0, "sma_20": 5.0}]) == [[], []]


@pytest.mark.parametrize("cut", [1, 4, 7])
def test_rules_restored_from_their_state_go_on_exactly(cut: int) -> None:
    rows = [{**bands(100, w), "rsi_14": r, "sma_20": a, "sma_50": 10.0}
            for w, r, a in [(5, 65, 9), (4, 72, 11), (3, 68, 9), (2, 28, 12), (6, 31, 8),
                            (1, 50, 11), (7, 75, 9), (0.5, 60, 12)]]  # fmt: skip
    config = TrendConfig(squeeze_lookback=3)
    whole, first = TrendRules(config), TrendRules(config)
    expected = [whole.update(r["close"], r) for r in rows]
    got = [first.update(r["close"], r) for r in rows[:cut]]
    again = TrendRules.from_state(config, orjson.loads(orjson.dumps(first.state())))
    got += [again.update(r["close"], r) for r in rows[cut:]]
    assert got == expected


def naive_squeezes(widths: list[float], lookback: int) -> list[bool]:
    """The squeeze by its definition: at or below the lowest of the previous ``lookback``."""
    return [i >= lookback and w <= min(widths[i - lookback : i]) for i, w in enumerate(widths)]


@pytest.mark.parametrize("seed", range(6))
def test_the_squeeze_keeps_only_the_lows_that_can_still_be_the_lowest(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lookback = int(rng.choice([2, 5, 20]))
    # few distinct widths (ties), runs that only widen or only narrow, and a random walk
    widths = [float(w) for w in rng.choice([1, 2, 3], 80)]
    widths += [float(i) for i in range(1, 60)] + [float(60 - i) for i in range(60)]
    widths += [2 + abs(float(g)) for g in rng.normal(0, 1, 300)]
    rules = TrendRules(TrendConfig(squeeze_lookback=lookback))
    squeezed, kept = [], []
    for w in widths:
        rules.update(100.0, {k: v for k, v in bands(100, w).items() if k != "close"})
        squeezed.append(rules.in_squeeze)
        kept.append(len(rules.state()["lows"]))
    exact = [(bands(100, w)["bb_upper_20_2"] - bands(100, w)["bb_lower_20_2"]) / 100.0
             for w in widths]  # fmt: skip
    assert squeezed == naive_squeezes(exact, lookback)
    assert max(kept) == lookback  # while the bands widen, every width may still be the lowest
    assert kept[80 + 59 + 59] == 1  # after they narrowed for the whole lookback, only the last


def test_a_state_that_kept_every_bandwidth_restores_and_goes_on_exactly() -> None:
    rows = [bands(100, 2 + abs(float(g))) for g in np.random.default_rng(7).normal(0, 1, 40)]
    config = TrendConfig(squeeze_lookback=10)
    whole, first = TrendRules(config), TrendRules(config)
    expected = [whole.update(r["close"], r) for r in rows]
    got = [first.update(r["close"], r) for r in rows[:25]]
    widths = [(r["bb_upper_20_2"] - r["bb_lower_20_2"]) / 100 for r in rows[15:25]]
    old = {"previous": first.previous, "bandwidths": widths, "in_squeeze": first.in_squeeze,
           "regime": first.regime}  # fmt: skip
    again = TrendRules.from_state(config, orjson.loads(orjson.dumps(old)))
    got += [again.update(r["close"], r) for r in rows[25:]]
    assert got == expected
    assert any(f.name == "bb_squeeze" for fired in expected[25:] for f in fired)


def test_the_state_remembers_only_the_values_the_rules_read_on_the_next_bar() -> None:
    rules = TrendRules(TrendConfig(ma_pairs=(("ema_12", "ema_26"),)))
    values = {"ema_12": 1.0, "ema_26": 2.0, "sma_20": 3.0, "macd_12_26_9": 0.5, "obv": 9.0,
              "bb_middle_20_2": 100.0, "rsi_14": 50.0, "adx_14": 30.0}  # fmt: skip
    rules.update(101.0, values)
    assert rules.state()["previous"] == {
        "ema_12": 1.0, "ema_26": 2.0, "macd_12_26_9": 0.5, "rsi_14": 50.0, "close": 101.0
    }  # fmt: skip


def fired(rows: list[dict[str, float]], config: TrendConfig | None = None) -> list[list[Fired]]:
    rules = TrendRules(config or TrendConfig())
    return [rules.update(row["close"], row) for row in rows]


def test_crosses_fire_with_their_strength_and_the_values_behind_them() -> None:
    rows = [
        {"close": 1.0, "sma_20": 9.0, "sma_50": 10.0, "macd_12_26_9": -1.0,
         "macdsignal_12_26_9": 0.0},
        {"close": 1.0, "sma_20": 11.0, "sma_50": 10.0, "macd_12_26_9": 1.0,
         "macdsignal_12_26_9": 0.0},
        {"close": 1.0, "sma_20": 9.5, "sma_50": 10.0, "macd_12_26_9": -0.5,
         "macdsignal_12_26_9": 0.0},
    ]  # fmt: skip
    assert fired(rows) == [
        [],
        [Fired("golden_cross_sma_20_sma_50", "bullish", 100.0, {"sma_20": 11.0, "sma_50": 10.0}),
         Fired("macd_bullish_cross", "bullish", 100.0,
               {"macd_12_26_9": 1.0, "macdsignal_12_26_9": 0.0})],
        [Fired("death_cross_sma_20_sma_50", "bearish", 100.0, {"sma_20": 9.5, "sma_50": 10.0}),
         Fired("macd_bearish_cross", "bearish", 100.0,
               {"macd_12_26_9": -0.5, "macdsignal_12_26_9": 0.0})],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (70.0, 71.0, [Fired("rsi_enter_overbought", "bearish", 71.0, {"rsi_14": 71.0})]),
        (69.0, 70.0, []),  # at the line is not above it
        (71.0, 70.0, [Fired("rsi_exit_overbought", "bearish", 30.0, {"rsi_14": 70.0})]),
        (70.0, 65.0, []),  # was not above
        (30.0, 29.0, [Fired("rsi_enter_oversold", "bullish", 71.0, {"rsi_14": 29.0})]),
        (31.0, 30.0, []),
        (29.0, 30.0, [Fired("rsi_exit_oversold", "bullish", 30.0, {"rsi_14": 30.0})]),
        (30.0, 35.0, []),
    ],
)
def test_rsi_zones_at_their_lines(before: float, now: float, expected: list[Fired]) -> None:
    rows = [{"close": 1.0, "rsi_14": before}, {"close": 1.0, "rsi_14": now}]
    assert fired(rows) == [[], expected]


def test_bollinger_breakouts_at_the_bands() -> None:
    config = TrendConfig(squeeze_lookback=50)
    up = {"close": 106.0, "bb_upper_20_2": 106.0, "bb_lower_20_2": 94.0}
    rows = [bands(106, 6), bands(106.5, 6), bands(94, 6), bands(93.5, 6), bands(100, 6)]
    assert fired(rows, config) == [
        [],  # on the band is not outside it
        [Fired("bb_breakout_up", "bullish", 100.0, {**up, "close": 106.5})],  # from on the band
        [],
        [Fired("bb_breakout_down", "bearish", 100.0, {**up, "close": 93.5})],
        [],
    ]


def test_a_squeeze_fires_with_its_bandwidth_and_on_a_price_under_one() -> None:
    config = TrendConfig(squeeze_lookback=2)
    cheap = [{"close": 0.5, "bb_upper_20_2": 0.5 + w, "bb_middle_20_2": 0.5,
              "bb_lower_20_2": 0.5 - w} for w in (0.2, 0.1, 0.05)]  # fmt: skip
    got = fired(cheap, config)
    width = (cheap[2]["bb_upper_20_2"] - cheap[2]["bb_lower_20_2"]) / 0.5
    details = {"close": 0.5, "bb_upper_20_2": cheap[2]["bb_upper_20_2"],
               "bb_lower_20_2": cheap[2]["bb_lower_20_2"], "bandwidth": width}  # fmt: skip
    assert got == [[], [], [Fired("bb_squeeze", "neutral", 100.0, details)]]
    zero = {"close": 0.0, "bb_upper_20_2": 0.0, "bb_middle_20_2": 0.0, "bb_lower_20_2": 0.0}
    assert fired([zero, zero, zero], config) == [[], [], []]  # no bandwidth of a zero middle


def test_equal_bandwidths_keep_one_low() -> None:
    rules = TrendRules(TrendConfig(squeeze_lookback=5))
    for _ in range(4):
        rules.update(100.0, bands(100, 3))
    assert len(rules.lows) == 1


def test_the_adx_regime_at_its_thresholds_and_while_it_stays() -> None:
    def row(adx: float, plus: float = 20.0, minus: float = 20.0) -> dict[str, float]:
        return {"close": 1.0, "adx_14": adx, "plus_di_14": plus, "minus_di_14": minus}

    details = {"adx_14": 25.0, "plus_di_14": 20.0, "minus_di_14": 20.0}
    assert fired([row(22), row(25), row(30), row(20), row(19), row(15), row(10), row(120)]) == [
        [],
        [Fired("adx_trend_start", "bullish", 25.0, details)],  # at 25, +DI level with -DI
        [],
        [],  # 20 is not below 20
        [Fired("adx_trend_end", "neutral", 19.0, {**details, "adx_14": 19.0})],
        [],  # still ranging: no second end
        [],
        [Fired("adx_trend_start", "bullish", 100.0, {**details, "adx_14": 120.0})],
    ]


def test_rules_restored_in_a_squeeze_and_a_trend_do_not_fire_them_again() -> None:
    config = TrendConfig(squeeze_lookback=2)
    rows = [{**bands(100, w), "adx_14": a, "plus_di_14": 30.0, "minus_di_14": 10.0}
            for w, a in [(5, 10), (4, 30), (3, 31), (2, 32), (2, 33)]]  # fmt: skip
    whole = fired(rows, config)
    first = TrendRules(config)
    for row in rows[:3]:
        first.update(row["close"], row)
    assert first.in_squeeze
    assert first.regime == "trending"
    again = TrendRules.from_state(config, orjson.loads(orjson.dumps(first.state())))
    assert [again.update(r["close"], r) for r in rows[3:]] == whole[3:] == [[], []]
