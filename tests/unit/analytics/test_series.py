"""A bar series' state: the snapshot and signals of each bar, and a restore that changes nothing."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector
from marketpulse.analytics.series import EncodedDetector, SeriesState
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.settings import Settings

M = 60 * 10**9


def walk(count: int, seed: int = 7) -> list[Bar]:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    bars, previous = [], 100.0
    for i, close in enumerate(closes.tolist()):
        high, low = max(previous, close) * 1.002, min(previous, close) * 0.998
        bars.append(Bar(symbol="X", granularity="1m", start=i * M, end=(i + 1) * M,
                        open=previous, high=high, low=low, close=close,
                        volume=float(rng.integers(0, 5_000))))  # fmt: skip
        previous = close
    return bars


def forming_fields(bar: Bar) -> dict[str, object]:
    """The fields of ``bar`` as the bar builder gives a forming one."""
    return bar.model_copy(update={"final": False}).model_dump()


def test_a_forming_record_is_what_the_snapshot_schema_encodes_and_its_values_the_final_ones() -> (
    None
):
    settings = Settings()
    state = SeriesState.new(settings.indicators, settings.detector_config())
    bars = walk(80)
    bars[40] = bars[40].model_copy(update={"volume": 0.0})  # no VWAP
    for bar in bars:
        record = state.peek(forming_fields(bar))
        snapshot = IndicatorSnapshot.model_validate_json(record)  # the schema takes it...
        assert orjson.loads(record) == orjson.loads(snapshot.model_dump_json())  # ...whole
        assert snapshot.bar == bar.model_copy(update={"final": False})
        assert not snapshot.final
        final, _ = state.advance(bar)
        closed = snapshot.bar.model_copy(update={"final": True})
        assert snapshot.model_copy(update={"final": True, "bar": closed}) == final


def warmed(n: int) -> tuple[DetectorConfig, list[Bar], SeriesState]:
    """The default detectors, ``n`` bars, and a series of the default set over the first 250."""
    settings = Settings()
    config = settings.detector_config()
    bars = walk(n)
    series = SeriesState.new(settings.indicators, config)
    for bar in bars[:250]:
        series.advance(bar)
    return config, bars, series


def goes_on_alike(original: SeriesState, restored: SeriesState, bars: list[Bar]) -> None:
    """Both series give the same snapshot and signals on every bar, some of them signals (so
    the comparison covers the detectors, not only the snapshots)."""
    fired = 0
    for bar in bars:
        want, got = original.advance(bar), restored.advance(bar)
        assert got == want
        fired += len(got[1])
    assert fired > 0


def test_a_restored_series_goes_on_exactly_as_the_original() -> None:
    config, bars, original = warmed(400)
    restored = SeriesState.from_bytes(config, original.to_bytes())
    assert restored.last_start == bars[249].start
    goes_on_alike(original, restored, bars[250:])
    assert restored.to_bytes() == original.to_bytes()


def test_a_restored_series_decodes_its_detectors_only_when_a_bar_needs_them() -> None:
    """A restored series peeks at its forming bar without its detectors, writes them back as
    it read them, and decodes them at its next closed bar, which then fires what the original
    fires."""
    config, bars, original = warmed(300)
    record = original.to_bytes()
    head, detector = record.split(b"\n")
    assert "detector" not in orjson.loads(head)
    assert detector == orjson.dumps(original.detector.state())
    restored = SeriesState.from_bytes(config, record)
    assert isinstance(restored._detector, EncodedDetector)
    assert restored.peek(forming_fields(bars[250])) == original.peek(forming_fields(bars[250]))
    assert restored.to_bytes() == record
    assert isinstance(restored._detector, EncodedDetector)  # still: nothing needed them
    goes_on_alike(original, restored, bars[250:])
    assert isinstance(restored._detector, SignalDetector)
    assert restored.to_bytes() == original.to_bytes()


def test_a_snapshot_is_of_its_bar_and_a_bar_is_applied_once() -> None:
    settings = Settings()
    state = SeriesState.new(["sma_2"], settings.detector_config())
    first, second = walk(2)
    assert not state.applied(first)
    snapshot, _ = state.advance(first)
    assert (snapshot.bar, snapshot.bar_start, snapshot.values) == (first, first.start, {})
    assert state.applied(first)
    assert not state.applied(second)
    snapshot, _ = state.advance(second)
    assert snapshot.values == {"sma_2": (first.close + second.close) / 2}
    assert snapshot.ready == {"sma_2": True}


def test_every_price_of_the_bar_reaches_the_indicators_closed_or_forming() -> None:
    state = SeriesState.new(["bop", "avgprice", "obv"], Settings().detector_config())
    bar = walk(1)[0]
    want = {
        "bop": (bar.close - bar.open) / (bar.high - bar.low),
        "avgprice": (bar.open + bar.high + bar.low + bar.close) / 4,
        "obv": bar.volume,
    }
    forming = IndicatorSnapshot.model_validate_json(state.peek(forming_fields(bar)))
    assert forming.values == pytest.approx(want, rel=1e-12)
    assert not forming.final
    snapshot, _ = state.advance(bar)
    assert snapshot.values == pytest.approx(want, rel=1e-12)


def test_an_output_that_overflows_is_left_out_of_the_snapshot() -> None:
    state = SeriesState.new(["mfi_2", "sma_2"], Settings().detector_config())
    prices = ("open", "high", "low", "close")
    huge = [bar.model_copy(update={"volume": 1e300, **{k: getattr(bar, k) * 1e300 for k in prices}})
            for bar in walk(4)]  # fmt: skip
    for bar in huge[:3]:
        state.advance(bar)
    forming = IndicatorSnapshot.model_validate_json(state.peek(forming_fields(huge[3])))
    snapshot, _ = state.advance(huge[3])
    # the money flow of such bars (price times volume) is not a float; the average is
    for shown in (forming, snapshot):
        assert set(shown.values) == {"sma_2"}
        assert "null" not in orjson.dumps(shown.model_dump(mode="json")["values"]).decode()


def test_a_series_whose_detectors_were_written_in_full_goes_on_exactly() -> None:
    """A record as workers wrote it before the detectors kept less (the candlestick set's
    names, the squeeze's every bandwidth, the trend rules' every previous value) still reads,
    and the series goes on as the original."""
    settings = Settings()
    config = settings.detector_config()
    bars = walk(400)
    original = SeriesState.new(settings.indicators, config)
    snapshots = [original.advance(bar)[0] for bar in bars[:250]]
    head, detector = original.to_bytes().split(b"\n")
    full = orjson.loads(detector)
    candles = full["candles"]
    assert "names" not in candles
    del candles["choice"]
    candles["names"] = list(config.candlesticks or ())
    trend = config.trend
    widths = [(s.values[trend.bb_upper] - s.values[trend.bb_lower]) / s.values[trend.bb_middle]
              for s in snapshots if trend.bb_middle in s.values]  # fmt: skip
    assert full["trend"].pop("widths") == len(widths)
    del full["trend"]["lows"]
    full["trend"]["bandwidths"] = widths[-trend.squeeze_lookback :]
    full["trend"]["previous"] = {**snapshots[-1].values, "close": bars[249].close}
    restored = SeriesState.from_bytes(config, head + b"\n" + orjson.dumps(full))
    goes_on_alike(original, restored, bars[250:])
    # it writes the new form: the same, but for the squeeze's bar numbers, which count from the
    # bandwidths the record held
    ours, theirs = (s.to_bytes().split(b"\n") for s in (restored, original))
    assert ours[0] == theirs[0]
    written, expected = orjson.loads(ours[1]), orjson.loads(theirs[1])
    lows = [[w for _, w in state["trend"].pop("lows")] for state in (written, expected)]
    assert lows[0] == lows[1]
    skipped = len(widths) - trend.squeeze_lookback  # widths before the record's first
    assert written["trend"].pop("widths") == expected["trend"].pop("widths") - skipped
    assert written == expected
