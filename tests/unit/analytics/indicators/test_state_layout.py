"""Indicator states by position: what an earlier build wrote still reads, and a state laid out
by another build is refused rather than misread."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from marketpulse.analytics.indicators import DEFAULT_SPECS, Candle, IndicatorSet, base
from marketpulse.analytics.indicators.base import attribute_names
from marketpulse.analytics.indicators.registry import (
    StateLayoutChanged,
    _layout_of,
    build,
    expand,
    layout,
)
from marketpulse.analytics.series import SeriesState
from marketpulse.settings import Settings
from marketpulse.tables import checkpoints
from tests.unit.analytics.test_series import M, walk

# A series of the default set and every catalog spec over walk(300, seed=3), as a worker wrote
# it before states were positional: each object's state a dictionary by attribute name,
# compressed with the first dictionary.
KEYED = Path(__file__).parents[3] / "fixtures" / "states" / "series-keyed.zst"


def _every_spec() -> list[str]:
    return expand([*Settings().indicators, "all"])


def test_a_keyed_state_of_an_earlier_build_reads_as_this_build_states_the_same_bars() -> None:
    settings = Settings()
    config = settings.detector_config()
    record = KEYED.read_bytes()
    assert record[:1] == b"\x01"  # the first dictionary's number
    restored = SeriesState.from_bytes(config, checkpoints.expand(record))
    fresh = SeriesState.new(_every_spec(), config)
    for bar in walk(300, seed=3):
        fresh.advance(bar)
    assert restored.to_bytes() == fresh.to_bytes()  # in JSON: NaN is not equal to itself
    later = 300 * M
    for bar in walk(40, seed=4):
        bar = bar.model_copy(update={"start": bar.start + later, "end": bar.end + later})
        assert restored.advance(bar) == fresh.advance(bar)


def test_a_state_is_positional_with_its_layout() -> None:
    indicators = IndicatorSet(_every_spec())
    for bar in walk(60):
        indicators.update(Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume))
    state = orjson.loads(orjson.dumps(indicators.state()))
    assert set(state) == {"bars", "layout", "indicators"}
    assert state["layout"] == layout(indicators.specs)
    assert all(isinstance(each, list) for each in state["indicators"].values())
    assert not any(map(_has_text, state["indicators"].values()))  # no names, no kinds
    restored = IndicatorSet.from_state(state)
    assert orjson.dumps(restored.state()) == orjson.dumps(indicators.state())  # NaN as null


def test_a_state_of_another_layout_is_refused() -> None:
    state = orjson.loads(orjson.dumps(IndicatorSet().state()))
    state["layout"] = "0" * 12
    with pytest.raises(StateLayoutChanged, match="layout 000000000000, where this build's is"):
        IndicatorSet.from_state(state)


def test_the_layout_follows_the_attributes_their_order_and_the_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each class's names as :func:`attribute_names` gives them (cached per class) changed in
    turn: the fingerprint changes with any of them."""
    sma = build("sma_20")
    before = _layout_of(sma)
    assert before == _layout_of(build("sma_20"))
    names, ring_names = attribute_names(sma), attribute_names(sma.window)
    assert "window" in names
    for changed in (names[::-1], names[:-1]):
        monkeypatch.setitem(base._ATTRIBUTES, type(sma), changed)
        assert _layout_of(sma) != before
    monkeypatch.setitem(base._ATTRIBUTES, type(sma), names)
    monkeypatch.setitem(base._ATTRIBUTES, type(sma.window), ring_names[::-1])  # a child's
    assert _layout_of(sma) != before
    monkeypatch.setitem(base._ATTRIBUTES, type(sma.window), ring_names)
    assert _layout_of(sma) == before
    assert layout(("sma_20",)) != layout(("sma_21",)) != layout(("ema_20",))


def test_the_default_sets_layout_is_the_released_one() -> None:
    """A change to it makes every stored series state of the default set refused (its series
    warm again from history): made on purpose, and said in the release's notes."""
    assert _layout_of(build("sma_3")) == "SMA[period total value window(Ring[head items size])]"
    assert layout(DEFAULT_SPECS) == "6156b1129f0c"
    ema = _layout_of(build("ema_5"))
    assert f"stages({','.join([ema] * 6)})" in _layout_of(build("t3_5_0.7"))  # a list of children


def test_a_state_of_another_length_is_refused_with_the_class_and_both_counts() -> None:
    state = build("sma_3").state()
    with pytest.raises(ValueError, match="a state of 3 values for SMA's 4"):
        build("sma_3").load(state[:3])


def test_an_output_that_is_not_a_number_survives_its_state_in_json() -> None:
    """TA-Lib's ACOS of a price is NaN, which JSON writes as null: read back, it is the NaN
    it was (left out of the values), not a None that the next write would trip on."""
    indicators = IndicatorSet(("acos", "sma_2"))
    for i in range(3):
        indicators.update(Candle(i, 100.0, 101.0, 99.0, 100.0 + i, 10.0))
    restored = IndicatorSet.from_state(orjson.loads(orjson.dumps(indicators.state())))
    assert restored.readiness() == indicators.readiness() == {"acos": True, "sma_2": True}
    assert [each.values() for each in restored.indicators] == [{}, {"sma_2": 101.5}]
    candle = Candle(3, 0.5, 0.6, 0.4, 0.5, 10.0)
    assert restored.peek(candle) == indicators.peek(candle)
    assert restored.update(candle) == indicators.update(candle)
    assert "acos" in restored.update(candle)


def _has_text(value: object) -> bool:
    if isinstance(value, list):
        return any(map(_has_text, value))
    return not (value is None or isinstance(value, (int, float)))


def test_restored_sets_share_the_names_of_the_averages_inside_their_indicators() -> None:
    """A dozen averages a series of the default set live inside other indicators (a MACD's
    three EMAs, a TEMA's three): every restored series holds one copy of each name and its
    outputs, not its own (part of what a worker taking over thousands of series keeps)."""
    first = IndicatorSet.from_state(IndicatorSet(DEFAULT_SPECS).state())
    second = IndicatorSet.from_state(IndicatorSet(DEFAULT_SPECS).state())
    inner = [
        (getattr(a, name), getattr(b, name))
        for a, b in zip(first.indicators, second.indicators, strict=True)
        for name in ("fast_ema", "slow_ema", "signal_ema", "ema1", "ema2", "ema3")
        if hasattr(a, name)
    ]
    assert len(inner) == 8  # MACD's three, DEMA's two, TEMA's three
    for a, b in inner:
        assert a.name == f"ema_{a.period}"
        assert a.name is b.name
        assert a.outputs is b.outputs
