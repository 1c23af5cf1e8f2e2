"""The detectors together: a bar's signals are what each detector found on it (name,
direction, strength and details), of the candlestick patterns chosen."""

from __future__ import annotations

import orjson

from marketpulse.analytics.patterns.charts import ChartConfig, ChartPatterns
from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector
from marketpulse.analytics.patterns.levels import LevelConfig, Levels
from marketpulse.analytics.patterns.trend import TrendConfig
from marketpulse.schemas.bars import Bar
from tests.unit.analytics.patterns.test_levels_and_charts import DAY, HOUR, path
from tests.unit.analytics.test_series import walk


def hourly(closes: list[float]) -> list[Bar]:
    """Hourly bars around the closes, over days."""
    return [
        Bar(symbol="X", granularity="1h", start=10 * DAY + i * HOUR,
            end=10 * DAY + (i + 1) * HOUR, open=close, high=close + 0.2, low=close - 0.2,
            close=close, volume=1.0)
        for i, close in enumerate(closes)
    ]  # fmt: skip


def test_level_and_chart_signals_carry_what_their_detectors_found() -> None:
    detector = SignalDetector.new(DetectorConfig())
    levels, charts = Levels(LevelConfig()), ChartPatterns(ChartConfig())
    found = 0
    # a double top, then a head and shoulders, over several days: swings, levels, pivots, shapes
    for bar in hourly(path([90, 110, 100, 110.5, 95, 104, 98, 108, 97, 103, 96, 85])):
        signals = detector.update(bar, {})
        level_fired, swings = levels.update(bar.start, bar.high, bar.low, bar.close)
        expected = [("level", f) for f in level_fired]
        expected += [("chart", f) for f in charts.update(bar.start, bar.close, swings)]
        got = [s for s in signals if s.kind in ("level", "chart")]
        assert [(s.kind, s.name, s.direction, s.strength, s.details) for s in got] == [
            (kind, f.name, f.direction, f.strength, f.details) for kind, f in expected
        ]
        assert all((s.symbol, s.granularity, s.ts) == ("X", "1h", bar.start) for s in signals)
        found += sum(bool(s.details) for s in got)
    assert found >= 3  # signals with details came through


def test_only_the_chosen_candlestick_patterns_are_detected() -> None:
    chosen = ("cdlengulfing", "cdldoji")
    detector = SignalDetector.new(DetectorConfig(candlesticks=chosen))
    every = SignalDetector.new(DetectorConfig())
    seen: set[str] = set()
    for bar in walk(600):
        names = {s.name for s in detector.update(bar, {}) if s.kind == "candlestick"}
        assert names == {s.name for s in every.update(bar, {}) if s.kind == "candlestick"} & set(
            chosen
        )
        seen |= names
    assert seen == set(chosen)


def test_a_detector_fresh_or_restored_follows_its_configuration() -> None:
    # an RSI threshold of 60, not the default 70, and two candlestick patterns: what a
    # restored detector reads from its configuration, not its state
    config = DetectorConfig(candlesticks=("cdlengulfing", "cdldoji"),
                            trend=TrendConfig(rsi_overbought=60.0))  # fmt: skip
    bars = walk(300)
    rsi = [50.0 + 15.0 * ((i // 7) % 2) for i in range(len(bars))]  # 50, then 65, and back
    fresh = SignalDetector.new(config)
    for bar, value in zip(bars[:150], rsi, strict=False):
        fresh.update(bar, {"rsi_14": value})
    restored = SignalDetector.from_state(config, orjson.loads(orjson.dumps(fresh.state())))
    assert restored.candles.names == fresh.candles.names == list(config.candlesticks or ())
    kinds = set()
    for bar, value in zip(bars[150:], rsi[150:], strict=True):
        signals = fresh.update(bar, {"rsi_14": value})
        assert restored.update(bar, {"rsi_14": value}) == signals
        kinds |= {s.name for s in signals if s.kind != "candlestick"}
    assert "rsi_enter_overbought" in kinds  # at 65: over 60, under the default 70
