"""Trend and momentum rules on constructed indicator values with known answers."""

from __future__ import annotations

import orjson
import pytest

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
