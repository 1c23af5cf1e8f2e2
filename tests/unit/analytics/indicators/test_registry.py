"""The set of indicators kept per series, and the registry's views of every spec: ``all``, the
output names, a set's peek."""

from __future__ import annotations

import math
import re

import numpy as np
import orjson
import pytest
import talib

from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet
from marketpulse.analytics.indicators.base import attribute_names
from marketpulse.analytics.indicators.catalog import UnknownIndicator
from marketpulse.analytics.indicators.registry import build, catalog, expand, output_names
from tests.market_data import Series, random_walk, through_zero, whole_ticks, with_flats_and_gaps


def test_all_stands_for_every_catalog_spec_each_once_in_order() -> None:
    specs = [entry["spec"] for entry in catalog()]
    assert expand(["sma_20", " ALL ", "sma_30", "rsi_14"]) == ["sma_20", *specs]
    assert expand(["rsi_2", "rsi_2"]) == ["rsi_2"]
    assert len(specs) == len(set(specs)) > 130


def test_every_output_name_matches_the_pattern_and_nothing_else_does() -> None:
    pattern = re.compile(output_names())
    specs = [*expand(["all"]), "di_14", "vwap_20", "vwap_session", "bb_10_1.5", "stddev_5_-2",
             "sar_0.02_0.2", "t3_5_0.7", "var_5_1e-05"]  # fmt: skip
    for name in IndicatorSet(specs).outputs():
        assert pattern.match(name), name
    for name in ("nosuch_3", "sma_x", "SMA_20", "sma_20_", "plus_di_14x", ""):
        assert not pattern.match(name), name


@pytest.mark.parametrize(
    ("series", "spacing"),
    [
        (random_walk(120, 3), 60_000_000_000),
        # hourly: the session VWAP starts afresh each day; flat stretches: bands of no width
        (with_flats_and_gaps(5), 3_600_000_000_000),
    ],
    ids=["minutes", "hours_flat"],
)
def test_a_set_peeks_what_its_update_gives_and_keeps_its_state(
    series: Series, spacing: int
) -> None:
    candles = [
        Candle(i * spacing, *(float(getattr(series, f)[i]) for f in
               ("open", "high", "low", "close", "volume")))
        for i in range(len(series))
    ]  # fmt: skip
    indicators = IndicatorSet(DEFAULT_SPECS)
    for candle in candles:
        before = orjson.dumps(indicators.state())
        values, ready = indicators.peek(candle)
        assert orjson.dumps(indicators.state()) == before
        assert indicators.update(candle) == values
        assert indicators.readiness() == ready
    assert all(ready.values())


@pytest.mark.parametrize("specs", [("natr_5", "aroon_5", "stddev_5_1", "sar_0.02_0.2")])
def test_a_set_of_functions_peeks_its_values_and_readiness_as_update_gives_them(
    specs: tuple[str, ...],
) -> None:
    """TA-Lib's functions peek by saving, updating and restoring: the readiness they say is
    the one the update gives."""
    series = random_walk(40, 11)
    indicators = IndicatorSet(specs)
    for i in range(len(series.close)):
        candle = Candle(i, *(float(getattr(series, f)[i]) for f in
                        ("open", "high", "low", "close", "volume")))  # fmt: skip
        values, ready = indicators.peek(candle)
        assert indicators.update(candle) == values, i
        assert indicators.readiness() == ready, i
    assert all(ready.values())


def flat_start(seed: int) -> Series:
    """Whole ticks after a dozen bars at one price, traded (volume, no change): the first
    windows of an RSI, an MFI or a band hold nothing but dead bars."""
    s = whole_ticks(200, seed)
    open_, high, low, close, volume = (
        getattr(s, field).copy() for field in ("open", "high", "low", "close", "volume")
    )
    for prices in (open_, high, low, close):
        prices[:12] = s.close[0]
    volume[:12] = 1.0
    return Series(open_, high, low, close, volume)


def thin(seed: int) -> Series:
    """A walk traded in fractions (a crypto pair's base volume): windows of less than one."""
    s = random_walk(200, seed)
    return Series(s.open, s.high, s.low, s.close, s.volume * 1e-5)


# The indicators with a peek of their own, over short periods and every MA type they take, so
# that each branch of a peek (a window filling, a zero base, a range of nothing, a dead market)
# is met within a few hundred bars.
OWN_PEEKS = [
    "sma_3", "ema_3", "wma_4", "dema_3", "tema_3", "macd_3_6_2", "rsi_4", "roc_3", "mfi_4",
    "cci_4", "willr_3", "stochf_3_2", "stoch_3_2_2", "bb_5_2", "bb_2_2", "trange", "atr_3", "obv",
    "vwap_3", "vwap_session", "di_3", "di_1", "adx_3", "adx_2", "stoch_3_1_1",
    *(f"stoch_3_2_2_{t}_{t}" for t in range(1, 9)),
    *(f"bb_5_2_{t}" for t in range(1, 9)),
]  # fmt: skip


@pytest.mark.parametrize("spec", OWN_PEEKS)
@pytest.mark.parametrize(
    "series",
    [random_walk(200, 8), with_flats_and_gaps(9), through_zero(10), flat_start(11), thin(12)],
    ids=["walk", "flats", "through_zero", "flat_start", "thin"],
)  # fmt: skip
def test_each_peek_of_its_own_is_what_update_gives_and_commits_nothing(
    spec: str, series: Series
) -> None:
    """Through a set, alone (a set skips an indicator's peek before its first output; its own
    peek gives nothing there too, or the value it keeps), and restored from its state (what a
    peek keeps at hand is worked out again from it)."""
    indicator, alone = IndicatorSet([spec]), build(spec)
    for i in range(len(series.close)):
        candle = Candle(i * 3_600_000_000_000, *(float(getattr(series, f)[i]) for f in
                        ("open", "high", "low", "close", "volume")))  # fmt: skip
        before = orjson.dumps([indicator.state(), alone.state()])
        restored = build(spec)
        restored.load(orjson.loads(before)[1])
        values, ready = indicator.peek(candle)
        peeked = alone.peek(candle)
        assert restored.peek(candle) == peeked, i
        out: dict[str, float] = {}
        # what the set's readiness takes from a peek: whether every output is defined
        assert alone.peek_into(candle, out) == (len(out) == len(alone.outputs)), i
        assert orjson.dumps([indicator.state(), alone.state()]) == before, i
        assert indicator.update(candle) == values, i
        assert indicator.readiness() == ready, i
        alone.update(candle)
        assert alone.values() == peeked, i


def test_adx_peeks_its_first_output_over_a_flat_start_as_it_updates() -> None:
    """Flat bars first: no true range, so the DX before the first output is undefined and
    adds nothing to the mean."""
    adx = build("adx_2")
    prices = [10.0] * 5 + [10.5, 11.0, 10.2, 10.8]
    for i, price in enumerate(prices):
        candle = Candle(i, price, price, price, price, 1.0)
        peeked = adx.peek(candle)
        adx.update(candle)
        assert adx.values() == peeked, i
    assert adx.values()  # it has its first output


def test_the_directional_indices_over_two_bars_are_in_percent_as_talib_s() -> None:
    series = random_walk(120, 5)
    high, low, close = (getattr(series, f).astype(float) for f in ("high", "low", "close"))
    di, adx = build("di_2"), build("adx_2")
    got = []
    for i in range(len(close)):
        candle = Candle(i, float(close[i]), float(high[i]), float(low[i]), float(close[i]), 1.0)
        di.update(candle)
        adx.update(candle)
        values = {**di.values(), **adx.values()}
        got.append([values.get(n, math.nan) for n in ("plus_di_2", "minus_di_2", "adx_2")])
    want = np.column_stack([talib.PLUS_DI(high, low, close, 2), talib.MINUS_DI(high, low, close, 2),
                            talib.ADX(high, low, close, 2)])  # fmt: skip
    np.testing.assert_allclose(np.array(got), want, rtol=1e-9, equal_nan=True)


@pytest.mark.parametrize("spec", ["stoch_5_3_3", "bb_20_2", "sma_3"])
def test_a_state_holds_no_names_nor_what_a_peek_keeps_at_hand(spec: str) -> None:
    """Names come from the spec (and are the same strings in every series: keys a forming
    record's dict finds in the CPU's cache); a state written with them still loads."""
    indicator = build(spec)
    for i in range(30):
        indicator.update(Candle(i, 10.0 + i % 4, 11.0 + i % 3, 9.0, 10.5 + i % 5, 100.0))
    state = indicator.state()
    text = orjson.dumps(state)
    assert b'"name"' not in text
    assert b'"outputs"' not in text
    assert b'"_' not in text
    # the keyed form (at the top), the names first, as states were written before they were
    # positional
    keyed = dict(zip(attribute_names(indicator), state, strict=True))
    with_names = {"name": "old", "outputs": ["old"], **keyed}
    restored = build(spec)
    restored.load(orjson.loads(orjson.dumps(with_names)))
    assert restored.state() == state
    assert restored.outputs == indicator.outputs
    assert restored.name == indicator.name
    assert all(a is b for a, b in zip(restored.outputs, indicator.outputs, strict=True))
    candle = Candle(30, 12.0, 14.0, 8.0, 13.0, 50.0)
    assert restored.peek(candle) == indicator.peek(candle) != {}


@pytest.mark.parametrize("spec", ["sma_20", "di_14", "vwap_20", "vwap_session", "bb_20_2"])
def test_each_build_of_a_spec_is_a_fresh_indicator(spec: str) -> None:
    """A spec is read once, but every series gets indicators of its own: one fed bars leaves
    another of the same spec as new."""
    first, second = build(spec), build(spec)
    assert first is not second
    untouched = second.state()
    for i in range(30):
        first.update(Candle(i, 10.0 + i, 11.0 + i, 9.0 + i, 10.5 + i, 100.0))
    assert first.state() != untouched
    assert second.state() == untouched == build(spec).state()


def test_a_refused_spec_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(UnknownIndicator, match="di_<n>"):
            build("di_0")
