"""The candlestick engine's own duties: which patterns it runs, a restart from its state, and
the warm-up of a stateful pattern from the first bar, each against TA-Lib."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import talib

from marketpulse.analytics.patterns.candles import History
from marketpulse.analytics.patterns.candlestick import REGISTRY
from marketpulse.analytics.patterns.engine import CandlestickSet
from tests.market_data import candles
from tests.oracles import candlestick_outputs


def test_unknown_patterns_are_named_in_the_refusal() -> None:
    with pytest.raises(ValueError, match=r"^unknown candlestick patterns: nosuch, cdlother$"):
        CandlestickSet(["cdldoji", "nosuch", "cdlother"])


def test_patterns_without_averages_run_alone() -> None:
    series = candles(600, 8)
    names = ["cdlengulfing", "cdlhikkake", "cdl3outside"]
    got = candlestick_outputs(series, names)
    for name in names:
        expected = getattr(talib, name.upper())(series.open, series.high, series.low, series.close)
        assert got[name] == list(expected), name


def test_a_hikkake_from_the_first_bars_is_found_as_talib_finds_it() -> None:
    # the pattern (bars 2-4) comes before the first output bar (5) and is confirmed after it:
    # the rule must warm up from bar 2, as TA-Lib's does
    bars = [(100, 100.5, 99.5, 100)] * 2 + [
        (100, 102, 98, 101), (100.5, 101.5, 99, 99.25),  # a bar, and one inside it
        (99.5, 101, 98.5, 99),  # lower high, lower low: a bullish hikkake on bar 4
        (99, 99.5, 98.25, 99.25), (99.5, 102, 99.25, 101.75),  # closes above 101.5 on bar 6
        (102, 102.5, 101.5, 102), (102, 102.5, 101.5, 102),
    ]  # fmt: skip
    _same_as_talib(bars)


def test_a_hikkake_on_the_first_bar_the_rule_runs_is_confirmed_later() -> None:
    # found on bar 2, the first bar the rule runs (its lookback 5 less its warm-up 3), and
    # confirmed on bar 5, the first output bar: a rule started one bar late would miss it
    bars = [
        (100, 102, 98, 101), (100.5, 101.5, 99, 99.25), (99.5, 101, 98.5, 99),
        (99, 99.5, 98.25, 99.25), (99.25, 100, 98.75, 99.5), (99.5, 102, 99.25, 101.75),
    ]  # fmt: skip
    _same_as_talib(bars)


def _same_as_talib(bars: list[tuple[float, float, float, float]]) -> None:
    o, h, l, c = (np.array(column, dtype=float) for column in zip(*bars, strict=True))  # noqa: E741
    for names in (["cdlhikkake"], None):
        engine = CandlestickSet(names)
        got = [engine.update(*bar) for bar in bars]
        column = engine.names.index("cdlhikkake")
        assert [row[column] for row in got] == list(talib.CDLHIKKAKE(o, h, l, c))
    assert list(talib.CDLHIKKAKE(o, h, l, c)).count(200) == 1  # confirmed, on an output bar


@pytest.mark.parametrize("bars", [0, 2, 50])
def test_a_chosen_set_restarts_from_its_state_with_the_same_patterns(bars: int) -> None:
    series = candles(120, 9)
    rows = list(zip(series.open, series.high, series.low, series.close, strict=True))
    names = ["cdldoji", "cdlhammer", "cdlhikkake"]
    whole, first = CandlestickSet(names), CandlestickSet(names)
    expected = [whole.update(*map(float, row)) for row in rows]
    for row in rows[:bars]:
        first.update(*map(float, row))
    resumed = CandlestickSet.from_state(orjson.loads(orjson.dumps(first.state())), names)
    assert resumed.names == names
    assert [resumed.update(*map(float, row)) for row in rows[bars:]] == expected[bars:]


def test_sets_made_together_keep_their_own_bars_and_averages() -> None:
    """Sets of one choice share how their averages are laid out, never the averages: two fed
    different bars in turns each give what one fed alone gives."""
    a_rows = list(
        zip(*(getattr(candles(150, 3), f) for f in ("open", "high", "low", "close")), strict=True)
    )
    b_rows = list(
        zip(*(getattr(candles(150, 4), f) for f in ("open", "high", "low", "close")), strict=True)
    )
    alone_a, alone_b = CandlestickSet(), CandlestickSet()
    expected_a = [alone_a.update(*map(float, row)) for row in a_rows]
    expected_b = [alone_b.update(*map(float, row)) for row in b_rows]
    a, b = CandlestickSet(), CandlestickSet()
    got_a, got_b = [], []
    for row_a, row_b in zip(a_rows, b_rows, strict=True):
        got_a.append(a.update(*map(float, row_a)))
        got_b.append(b.update(*map(float, row_b)))
    assert got_a == expected_a
    assert got_b == expected_b
    assert expected_a != expected_b


def test_sets_share_their_plain_rules_and_own_the_rest() -> None:
    """A worker holds a set for every series: the rules that are plain functions are the same
    objects in every set of a choice; a stateful rule (a hikkake's pending pattern) and one a
    factory makes with its parameters are each set's own."""
    a, b = CandlestickSet(), CandlestickSet()
    for name, (rule_a, *_a), (rule_b, *_b) in zip(a.names, a._rules, b._rules, strict=True):
        shared = REGISTRY[name].shared
        assert (rule_a is rule_b) is shared, name
        assert shared is (REGISTRY[name].make() is REGISTRY[name].make()), name
    assert sum(REGISTRY[name].shared for name in a.names) > len(a.names) / 2


def _rows(n: int, seed: int) -> list[tuple[float, float, float, float]]:
    series = candles(n, seed)
    return [tuple(map(float, row)) for row in zip(series.open, series.high, series.low,
                                                  series.close, strict=True)]  # fmt: skip


def test_a_state_names_no_pattern_and_a_state_that_did_restores_as_well() -> None:
    rows = _rows(200, 11)
    names = ["cdldoji", "cdlengulfing", "cdlhikkake"]
    whole, first = CandlestickSet(names), CandlestickSet(names)
    expected = [whole.update(*row) for row in rows]
    for row in rows[:120]:
        first.update(*row)
    state = orjson.loads(orjson.dumps(first.state()))
    assert "names" not in state
    assert len(state["choice"]) == 16
    listed = {**{k: v for k, v in state.items() if k != "choice"}, "names": names}  # older
    for stored in (state, listed):
        resumed = CandlestickSet.from_state(stored, names)
        assert resumed.history.count == 120  # carried on, not started over its kept bars
        assert [resumed.update(*row) for row in rows[120:]] == expected[120:]


def test_a_state_without_a_hikkakes_pending_pattern_restores_it_with_none() -> None:
    """A record that does not carry a stateful rule's pending pattern (one of the same choice
    that lost it) restores that rule as a fresh one: the set goes on as one whose hikkake saw
    no inside bar yet, not refused."""
    rows = _rows(200, 11)
    names = ["cdldoji", "cdlhikkake"]
    first = CandlestickSet(names)
    for row in rows[:120]:
        first.update(*row)
    state = orjson.loads(orjson.dumps(first.state()))
    assert set(state["rules"]) == {"cdlhikkake"}
    fresh = CandlestickSet.from_state({**state, "rules": {}}, names)
    blank = CandlestickSet.from_state(
        {**state, "rules": {"cdlhikkake": CandlestickSet(names).state()["rules"]["cdlhikkake"]}},
        names,
    )
    assert [fresh.update(*row) for row in rows[120:]] == [blank.update(*row) for row in rows[120:]]


@pytest.mark.parametrize("older", [False, True])
def test_a_state_of_another_choice_starts_the_chosen_patterns_over_its_kept_bars(
    older: bool,
) -> None:
    rows = _rows(300, 12)
    before, now = ["cdldoji", "cdlhammer"], ["cdlengulfing", "cdlhikkake", "cdldoji"]
    first = CandlestickSet(before)
    for row in rows[:200]:
        first.update(*row)
    state = orjson.loads(orjson.dumps(first.state()))
    if older:
        state = {**{k: v for k, v in state.items() if k != "choice"}, "names": before}
    resumed = CandlestickSet.from_state(state, now)
    assert resumed.names == now
    assert resumed.history.count == len(state["bars"][0]) == History.KEEP  # a state's bars
    fresh = CandlestickSet(now)
    for row in rows[200 - History.KEEP : 200]:
        fresh.update(*row)
    got = [resumed.update(*row) for row in rows[200:]]
    assert got == [fresh.update(*row) for row in rows[200:]]
    assert any(any(row) for row in got)  # the new choice's patterns do fire


def test_every_pattern_reads_within_the_bars_a_history_keeps() -> None:
    """A restored set has only the bars its state kept: every pattern's candles and the
    windows of its averages must fit in them."""
    reach = {
        name: max([pattern.span, *(1 + offset + s.period for s, offset in pattern.uses)])
        for name, pattern in REGISTRY.items()
    }
    assert max(reach.values()) <= History.KEEP


def test_the_histories_macros_count_back_from_the_current_bar() -> None:
    # TA-Lib's candle macros, k bars back: each bar's own, through the trims that keep the
    # columns short
    bars = [(100.0 + i, 104.0 + 2 * i, 97.0 - i, 101.0 + (-3 if i % 2 else 2) * i)
            for i in range(3 * History.KEEP)]  # fmt: skip
    history = History()
    for at, bar in enumerate(bars):
        history.push(*bar)
        for k in range(min(at + 1, History.KEEP)):
            o, h, l, c = bars[at - k]  # noqa: E741
            assert history.body(k) == abs(c - o)
            assert history.color(k) == (1 if c >= o else -1)
            assert (history.top(k), history.bottom(k)) == (max(o, c), min(o, c))
            assert (history.upper(k), history.lower(k)) == (h - max(o, c), min(o, c) - l)
            assert history.hl(k) == h - l
    assert history.count == len(bars)
