"""The contract every indicator keeps: empty then ready, state that round-trips, reset, errors."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pandas as pd
import pytest
import talib

from marketpulse.analytics.indicators import (
    DEFAULT_SPECS,
    Candle,
    IndicatorSet,
    UnknownIndicator,
    base,
    build,
)
from marketpulse.analytics.indicators.averages import SMA
from marketpulse.analytics.indicators.base import attribute_names, is_zero, is_zero_scaled
from marketpulse.analytics.indicators.momentum import CCI, MACD, MFI, ROC, RSI, STOCH, STOCHF, WILLR
from marketpulse.analytics.indicators.on_demand import request_of, spec_of
from marketpulse.analytics.indicators.talib_functions import FUNCTIONS
from marketpulse.analytics.indicators.trend import ADX, DI
from marketpulse.analytics.indicators.volume import NS_PER_DAY
from tests.market_data import random_walk

SERIES = random_walk(200, 5)
CANDLES = [
    Candle(
        i * 3_600_000_000_000,
        float(SERIES.open[i]),
        float(SERIES.high[i]),
        float(SERIES.low[i]),
        float(SERIES.close[i]),
        float(SERIES.volume[i]),
    )
    for i in range(len(SERIES))
]


@pytest.mark.parametrize("spec", DEFAULT_SPECS)
def test_empty_until_initialized_then_always_ready(spec: str) -> None:
    indicator = build(spec)
    assert indicator.initialized is False
    assert indicator.values() == {}
    became_ready = None
    for i, candle in enumerate(CANDLES):
        indicator.update(candle)
        if indicator.initialized and became_ready is None:
            became_ready = i
        if became_ready is not None:
            assert indicator.initialized
            assert set(indicator.values()) == set(indicator.outputs)
    assert became_ready is not None


@pytest.mark.parametrize("spec", DEFAULT_SPECS)
@pytest.mark.parametrize("cut", [0, 5, 30, 120])
def test_state_round_trips_through_json(spec: str, cut: int) -> None:
    original = build(spec)
    for candle in CANDLES[:cut]:
        original.update(candle)
    restored = build(spec)
    restored.load(orjson.loads(orjson.dumps(original.state())))
    for candle in CANDLES[cut:]:
        original.update(candle)
        restored.update(candle)
        assert restored.values() == original.values()


def test_a_state_with_a_child_missing_is_refused() -> None:
    """T3 is six EMAs in a row: a state of five (a record cut short, or of another shape)
    cannot be laid over them, and is refused rather than loaded in part."""
    t3 = build("t3_5_0.7")
    for candle in CANDLES[:40]:
        t3.update(candle)
    state = orjson.loads(orjson.dumps(t3.state()))
    at = attribute_names(t3).index("stages")
    state[at] = state[at][:5]
    with pytest.raises(ValueError, match="zip"):
        build("t3_5_0.7").load(state)


@pytest.mark.parametrize("spec", DEFAULT_SPECS)
def test_reset_forgets_everything(spec: str) -> None:
    used = build(spec)
    for candle in CANDLES[:100]:
        used.update(candle)
    used.reset()
    fresh = build(spec)
    assert used.state() == fresh.state()
    assert not used.initialized


def test_indicator_set_state_round_trips() -> None:
    full = IndicatorSet()
    for candle in CANDLES[:80]:
        full.update(candle)
    restored = IndicatorSet.from_state(orjson.loads(orjson.dumps(full.state())))
    for candle in CANDLES[80:]:
        assert restored.update(candle) == full.update(candle)
    assert restored.readiness() == full.readiness()
    assert all(full.readiness().values())
    assert full.bars == len(CANDLES)


def test_state_is_bounded() -> None:
    """O(1) state: it does not grow with the number of bars seen."""
    indicators = IndicatorSet()
    sizes = []
    for i, candle in enumerate(CANDLES):
        indicators.update(candle)
        if i in (100, 199):
            sizes.append(len(orjson.dumps(indicators.state())))
    assert sizes[1] <= sizes[0] * 1.05


@pytest.mark.parametrize(
    "spec", ["nope_3", "sma_1.5", "sma_x", "sma_0", "macd_1_2_3_4", "bb_20_two", "vwap_-1"]
)
def test_bad_specs_are_refused_with_a_reason(spec: str) -> None:
    with pytest.raises(UnknownIndicator, match=spec.split("_")[0]):
        build(spec)


@pytest.mark.parametrize(
    "spec", ["di_0", "vwap_0", "di_14_2", "vwap_20_1", "di", "di_1.5", "vwap_2.5"]
)
def test_the_engines_own_kinds_take_one_whole_period(spec: str) -> None:
    kind = spec.split("_")[0]
    with pytest.raises(UnknownIndicator, match=f"^{kind}_<n>: one period, a whole number"):
        build(spec)


@pytest.mark.parametrize(
    ("spec", "outputs"),
    [
        ("di_1", ("plus_di_1", "minus_di_1")),
        ("di_14", ("plus_di_14", "minus_di_14")),
        ("vwap_1", ("vwap_1",)),
        ("vwap_20", ("vwap_20",)),
        ("vwap_session", ("vwap_session",)),
        ("vwap", ("vwap",)),
    ],
)
def test_the_engines_own_kinds_name_their_outputs(spec: str, outputs: tuple[str, ...]) -> None:
    assert build(spec).outputs == outputs


def test_the_one_function_the_engine_leaves_out_is_named_in_its_refusal() -> None:
    with pytest.raises(
        UnknownIndicator, match=r"^TA-Lib's MAVP is left out: its period is a series"
    ):
        build("mavp")


def test_vwap_matches_an_independent_computation() -> None:
    """VWAP is not in TA-Lib: check it against pandas, session-anchored and rolling."""
    frame = pd.DataFrame(
        {
            "ts": [c.ts for c in CANDLES],
            "tp": [(c.high + c.low + c.close) / 3 for c in CANDLES],
            "volume": [c.volume for c in CANDLES],
        }
    )
    frame["pv"] = frame["tp"] * frame["volume"]
    day = frame["ts"] // NS_PER_DAY
    session = frame.groupby(day)["pv"].cumsum() / frame.groupby(day)["volume"].cumsum()
    rolling = frame["pv"].rolling(20).sum() / frame["volume"].rolling(20).sum()

    anchored, window = build("vwap_session"), build("vwap_20")
    for i, candle in enumerate(CANDLES):
        anchored.update(candle)
        window.update(candle)
        assert anchored.values()["vwap_session"] == pytest.approx(session[i], rel=1e-12)
        if i < 19:
            assert window.values() == {}
        else:
            assert window.values()["vwap_20"] == pytest.approx(rolling[i], rel=1e-9)
    assert day.nunique() > 5  # the series crosses several sessions


def test_vwap_is_empty_until_volume_trades() -> None:
    vwap = build("vwap_session")
    vwap.update(Candle(0, 10, 11, 9, 10, 0.0))
    assert vwap.values() == {}
    vwap.update(Candle(1, 10, 12, 9, 12, 100.0))
    assert vwap.values() == {"vwap_session": pytest.approx(11.0)}
    assert np.isfinite(vwap.values()["vwap_session"])


@pytest.mark.parametrize("spec", [*DEFAULT_SPECS, "stoch_5_3_3", "macd_5_35_5", "bb_10_1.5"])
def test_request_of_gives_the_name_and_params_that_ask_for_the_spec(spec: str) -> None:
    assert spec_of(*request_of(spec)) == spec


def test_periods_follow_talibs_ranges() -> None:
    assert build("sma_1").outputs == ("sma_1",)  # SMA takes 1 (no smoothing), RSI from 2
    assert build("rsi_2").outputs == ("rsi_2",)
    with pytest.raises(UnknownIndicator, match=r"outside TA-Lib's range \[2, 100000\]"):
        build("rsi_1")
    with pytest.raises(ValueError, match=r"^sma period must be at least 1, got 0$"):
        SMA(0)


def test_optional_parameters_may_be_left_out() -> None:
    assert build("bb_20").outputs == ("bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2")


def test_ta_libs_zero_tests_and_their_bounds() -> None:
    assert (is_zero(1e-14), is_zero(-1e-14), is_zero(0.99e-14), is_zero(-0.99e-14)) == (
        False, False, True, True,
    )  # fmt: skip
    # scaled: within 1e-14 of the operands, bound included, either sign
    assert (is_zero_scaled(2e-14, 2.0), is_zero_scaled(-2e-14, 2.0)) == (True, True)
    assert (is_zero_scaled(2.01e-14, 2.0), is_zero_scaled(-2.01e-14, 2.0)) == (False, False)
    assert is_zero_scaled(0.0, 0.0)


def test_state_is_complete_on_a_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The attribute names of each class are cached: the first state of a class must be whole
    too (a forked or fresh process starts cold)."""
    warm = IndicatorSet(["sma_3", "bb_5", "macd_3_5_2"])
    for i in range(10):
        warm.update(Candle(i, 10.0 + i, 11.0 + i, 9.0 + i, 10.5 + i, 100.0))
    expected = warm.state()
    monkeypatch.setattr(base, "_ATTRIBUTES", {})
    assert warm.state() == expected
    assert base._ATTRIBUTES  # and it filled the cache again


def test_each_indicator_without_arguments_has_ta_libs_defaults() -> None:
    for kind in (RSI, MACD, STOCH, STOCHF, WILLR, ROC, CCI, MFI):
        parameters = FUNCTIONS[kind.__name__]["parameters"]
        assert kind().params() == tuple(p["default"] for p in parameters), kind.__name__
    # +DI and -DI are one indicator here, with TA-Lib's PLUS_DI's default
    for kind, function in ((ADX, "ADX"), (DI, "PLUS_DI")):
        parameters = FUNCTIONS[function]["parameters"]
        assert kind().params() == tuple(p["default"] for p in parameters), function
    assert (MACD().name, STOCH().name, STOCHF().name, CCI().name, ADX().name, DI().name) == (
        "macd_12_26_9", "stoch_5_3_3", "stochf_5_3", "cci_14", "adx_14", "di_14",
    )  # fmt: skip


def test_a_stochastic_names_both_ma_types_when_either_is_not_the_default() -> None:
    # one spec per set of parameters: stoch_5_3_3 would name two different stochastics
    assert STOCH(slowk_matype=1).name == "stoch_5_3_3_1_0"
    assert STOCH(slowd_matype=2).outputs == ("stoch_slowk_5_3_3_0_2", "stoch_slowd_5_3_3_0_2")
    assert STOCH(slowk_matype=0, slowd_matype=0).name == "stoch_5_3_3"


def test_a_rate_of_change_from_zero_is_zero_as_in_talib() -> None:
    roc = ROC(1)
    out = []
    for i, close in enumerate((0.0, 5.0, 6.0)):
        roc.update(Candle(i, close, close, close, close, 1.0))
        out.append(roc.values().get("roc_1"))
    assert out == [None, 0.0, pytest.approx(20.0)]


def test_a_typical_price_a_rounding_away_from_its_average_is_on_it() -> None:
    # typical prices 1, 3 and the float after 2: the distance to the average is 4.4e-16, a tie
    # at this price (TA-Lib's scaled zero test), so the CCI is 0 as TA-Lib's is, not 1e-14
    closes = [1.0, 3.0, math.nextafter(2.0, 3.0)]
    cci = CCI(3)
    for i, close in enumerate(closes):
        cci.update(Candle(i, close, close, close, close, 1.0))
    series = np.array(closes)
    assert cci.values() == {"cci_3": 0.0} == {"cci_3": talib.CCI(series, series, series, 3)[-1]}
