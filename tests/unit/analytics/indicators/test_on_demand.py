"""What the API computes on demand: the spec a name and parameters ask for, and one
indicator's values over stored bars, equal to TA-Lib's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import talib

from marketpulse.analytics.indicators.catalog import UnknownIndicator
from marketpulse.analytics.indicators.on_demand import compute, request_of, spec_of
from tests.market_data import random_walk

H = 3_600_000_000_000
SERIES = random_walk(120, 11)


def bars() -> list[dict[str, Any]]:
    s = SERIES
    return [
        {"start": 1_700_000_000_000_000_000 + i * H, "open": float(s.open[i]),
         "high": float(s.high[i]), "low": float(s.low[i]), "close": float(s.close[i]),
         "volume": float(s.volume[i])}
        for i in range(len(s.close))
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "params", "spec"),
    [
        ("sma", "20", "sma_20"),
        ("SMA", "20", "sma_20"),
        ("bollinger", "20,2", "bb_20_2"),
        ("Bollinger", " 20 , 2 ", "bb_20_2"),
        ("BBANDS", "20,2", "bb_20_2"),
        ("stochastic", "14,3,3", "stoch_14_3_3"),
        ("Williams", "14", "willr_14"),
        ("vwap", "session", "vwap_session"),
        ("VWAP", "session", "vwap_session"),
        ("vwap", None, "vwap"),
        ("sma", "session", "sma_session"),  # only vwap has a session form; build() refuses it
        ("obv", None, "obv"),
        ("obv", "", "obv"),
    ],
)
def test_a_name_and_its_parameters_give_the_engines_spec(
    name: str, params: str | None, spec: str
) -> None:
    assert spec_of(name, params) == spec


@pytest.mark.parametrize("params", ["20,", ",2", "20,,2", " "])
def test_an_empty_parameter_is_refused_by_name(params: str) -> None:
    with pytest.raises(UnknownIndicator, match=rf"^empty parameter in {params!r}$"):
        spec_of("bb", params)


def test_values_start_where_the_indicator_is_defined_and_equal_talib() -> None:
    rows = compute("sma_5", bars())
    expected = talib.SMA(SERIES.close, 5)
    first = int(np.argmax(~np.isnan(expected)))
    assert [r["ts"] for r in rows] == [b["start"] for b in bars()[first:]]
    assert [r["sma_5"] for r in rows] == pytest.approx(list(expected[first:]), rel=1e-12)
    assert all(set(r) == {"ts", "sma_5"} for r in rows)


def test_every_output_of_a_many_output_indicator_is_in_each_row() -> None:
    rows = compute("bb_10_1.5", bars())
    upper, middle, lower = talib.BBANDS(SERIES.close, 10, 1.5, 1.5)
    first = int(np.argmax(~np.isnan(middle)))
    assert len(rows) == len(SERIES.close) - first
    for row, u, m, lo in zip(rows, upper[first:], middle[first:], lower[first:], strict=True):
        assert row["bb_upper_10_1.5"] == pytest.approx(u, rel=1e-9)
        assert row["bb_middle_10_1.5"] == pytest.approx(m, rel=1e-9)
        assert row["bb_lower_10_1.5"] == pytest.approx(lo, rel=1e-9)


def test_volume_and_high_low_reach_the_indicator() -> None:
    obv = compute("obv", bars())
    assert [r["obv"] for r in obv] == pytest.approx(
        list(talib.OBV(SERIES.close, SERIES.volume)), rel=1e-12
    )
    atr = compute("atr_5", bars())
    expected = talib.ATR(SERIES.high, SERIES.low, SERIES.close, 5)
    first = int(np.argmax(~np.isnan(expected)))
    assert [r["atr_5"] for r in atr] == pytest.approx(list(expected[first:]), rel=1e-9)


def test_an_unknown_spec_is_refused_before_any_bar() -> None:
    with pytest.raises(UnknownIndicator):
        compute("nosuch_3", bars())
    assert compute("sma_5", []) == []


@pytest.mark.parametrize(
    ("spec", "asked"),
    [("bb_20_2", ("bb", "20,2")), ("sma_20", ("sma", "20")), ("obv", ("obv", None)),
     ("vwap_session", ("vwap", "session"))],
)  # fmt: skip
def test_a_spec_gives_the_name_and_parameters_that_ask_for_it(
    spec: str, asked: tuple[str, str | None]
) -> None:
    assert request_of(spec) == asked


def test_a_session_vwap_restarts_with_each_utc_day_of_the_bars() -> None:
    day = 86_400 * 10**9
    rows = [
        {"start": start, "open": 1.0, "high": price, "low": price, "close": price, "volume": 1.0}
        for start, price in ((5 * day - H, 10.0), (5 * day, 20.0), (5 * day + H, 40.0))
    ]
    assert [r["vwap_session"] for r in compute("vwap_session", rows)] == [10.0, 20.0, 30.0]
