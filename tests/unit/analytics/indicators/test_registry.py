"""The set of indicators kept per series, and the registry's views of every spec: ``all``, the
output names, a set's peek."""

from __future__ import annotations

import re

import orjson
import pytest

from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet
from marketpulse.analytics.indicators.registry import catalog, expand, output_names
from tests.market_data import Series, random_walk, with_flats_and_gaps


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
