"""A bar series' state: the snapshot and signals of each bar, and a restore that changes nothing."""

from __future__ import annotations

import numpy as np

from marketpulse.analytics.series import SeriesState
from marketpulse.schemas.bars import Bar
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


def test_a_restored_series_goes_on_exactly_as_the_original() -> None:
    settings = Settings()
    config = settings.detector_config()
    bars = walk(400)
    original = SeriesState.new(settings.indicators, config)
    for bar in bars[:250]:
        original.advance(bar)
    restored = SeriesState.from_bytes(config, original.to_bytes())
    assert restored.last_start == bars[249].start
    fired = 0
    for bar in bars[250:]:
        want, got = original.advance(bar), restored.advance(bar)
        assert got == want
        fired += len(got[1])
    assert fired > 0  # the comparison covered signals, not only snapshots
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
