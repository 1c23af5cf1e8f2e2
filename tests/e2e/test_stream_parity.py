"""The stream equals the batch: one file through the broker and a worker, and through the batch
command, gives the same values; a restart in the middle changes nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketpulse.analytics.indicators import IndicatorSet
from marketpulse.analytics.indicators.registry import catalog
from marketpulse.analytics.patterns.detector import SignalDetector
from marketpulse.cli import main
from marketpulse.files.long_csv import candles, iso_utc
from marketpulse.files.ohlcv import read_ohlcv
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import bar_records, publish
from tests.e2e.pipeline import Pipeline, decoded
from tests.market_data import daily_frame

pytestmark = [pytest.mark.e2e]
DAY = 86_400 * 10**9


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(services, tmp_path)
    yield p
    p.stop()


def batch_rows(tmp_path: Path, source: Path, *extra: str) -> list[tuple[str, str, str, str]]:
    out = tmp_path / "batch.csv"
    command = ["indicators", "--input", str(source), "--output", str(out), "--symbol", "GOOG"]
    assert main([*command, *extra]) == 0
    with out.open() as handle:
        return [tuple(row) for row in csv.reader(handle)][1:]  # type: ignore[misc]


def stream_rows(snapshots: list[dict[str, object]]) -> list[tuple[str, str, str, str]]:
    rows = []
    for snap in sorted(snapshots, key=lambda s: int(s["bar_start"])):  # type: ignore[call-overload]
        values = snap["values"]
        assert isinstance(values, dict)
        stamp = iso_utc(int(snap["bar_start"]))  # type: ignore[call-overload]
        rows += [(stamp, str(snap["symbol"]), name, repr(value)) for name, value in values.items()]
    return rows


def batch_signals(source: Path, settings: Settings) -> dict[str, dict[str, object]]:
    """Every signal of the file by the batch engines: candlesticks as `marketpulse patterns`
    finds them (checked against the command's non-zero rows), trend rules over the file's
    indicator values."""
    series = read_ohlcv(source, "GOOG")[0]
    indicators = IndicatorSet(settings.indicators)
    detector = SignalDetector.new(settings.detector_config())
    signals = {}
    for candle in candles(series):
        bar = Bar(symbol="GOOG", granularity="1d", start=candle.ts, end=candle.ts + DAY,
                  open=candle.open, high=candle.high, low=candle.low, close=candle.close,
                  volume=candle.volume)  # fmt: skip
        for signal in detector.update(bar, indicators.update(candle)):
            signals[signal.key()] = signal.model_dump()
    out = source.parent / "patterns.csv"
    assert main(["patterns", "--input", str(source), "--output", str(out), "--symbol", "GOOG"]) == 0
    with out.open() as handle:
        found = {(r["timestamp"], r["pattern"], int(r["value"])) for r in csv.DictReader(handle)
                 if r["value"] != "0"}  # fmt: skip
    candlesticks = {
        (
            iso_utc(int(s["ts"])),
            str(s["name"]),
            int(s["strength"]) * (1 if s["direction"] == "bullish" else -1),
        )  # type: ignore[call-overload]
        for s in signals.values()
        if s["kind"] == "candlestick"
    }
    assert candlesticks == found
    return signals


def each_once(snapshots: list[dict[str, object]]) -> list[dict[str, object]]:
    """Snapshots by their key, each once; a key published twice must be the same snapshot
    (redelivered after a restart, not recomputed differently)."""
    out: dict[str, dict[str, object]] = {}
    for snap in snapshots:
        key = f"{snap['symbol']}|{snap['granularity']}|{snap['bar_start']}"
        assert out.setdefault(key, snap) == snap, f"{key} published twice, differently"
    return list(out.values())


def by_key(signals: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Signals by their deterministic key; a key published twice must be the same signal."""
    out: dict[str, dict[str, object]] = {}
    for signal in signals:
        key = f"{signal['symbol']}|{signal['granularity']}|{signal['ts']}|{signal['name']}"
        assert out.setdefault(key, signal) == signal, f"{key} published twice, differently"
    return out


def daily_csv(tmp_path: Path) -> Path:
    source = tmp_path / "goog.csv"
    daily_frame().to_csv(source, index=False)
    return source


async def test_replayed_file_gives_the_batch_values(pipeline: Pipeline, tmp_path: Path) -> None:
    source = daily_csv(tmp_path)
    records = bar_records(source, "GOOG", "1d")
    pipeline.start_worker()
    await publish(pipeline.settings, records)
    snapshots = decoded(await pipeline.read("analytics.indicators", len(records)))
    assert len(snapshots) == len(records)
    assert stream_rows(snapshots) == batch_rows(tmp_path, source)
    ready = snapshots[-1]["ready"]
    assert isinstance(ready, dict)
    assert all(ready.values())
    expected = batch_signals(source, pipeline.settings)
    kinds = {str(s["kind"]) for s in expected.values()}
    assert kinds == {"candlestick", "trend", "level", "chart"}
    signals = decoded(await pipeline.read("analytics.signals", len(expected)))
    assert by_key(signals) == expected


async def test_restart_mid_replay_gives_identical_output(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source = daily_csv(tmp_path)
    records = bar_records(source, "GOOG", "1d")
    first = pipeline.start_worker()
    await publish(pipeline.settings, records[:40])
    await pipeline.read("analytics.indicators", 40)
    assert first.stop() == 0
    pipeline.start_worker()
    await publish(pipeline.settings, records[40:])
    snapshots = decoded(await pipeline.read("analytics.indicators", len(records)))

    once = each_once(snapshots)
    assert len(once) == len(records)
    assert stream_rows(once) == batch_rows(tmp_path, source)
    expected = batch_signals(source, pipeline.settings)
    signals = decoded(await pipeline.read("analytics.signals", len(expected)))
    assert by_key(signals) == expected


async def test_every_talib_function_survives_a_restart_as_the_batch_computes_it(
    services: Settings, tmp_path: Path
) -> None:
    """Every spec of the catalog in the worker: its state goes through the table's changelog
    at the restart and comes back exact (TA-Lib's own handles cannot be saved at all)."""
    pipeline = Pipeline(services, tmp_path, MARKETPULSE_INDICATORS='["all"]')
    try:
        source = daily_csv(tmp_path)
        records = bar_records(source, "GOOG", "1d")
        first = pipeline.start_worker()
        await publish(pipeline.settings, records[:120])
        await pipeline.read("analytics.indicators", 120)
        assert first.stop() == 0
        pipeline.start_worker()
        await publish(pipeline.settings, records[120:])
        snapshots = decoded(await pipeline.read("analytics.indicators", len(records)))
    finally:
        pipeline.stop()
    rows = stream_rows(each_once(snapshots))
    names = {name for _, _, name, _ in rows}
    for entry in catalog():  # every spec streamed something (but ACOS, ASIN: prices above 1)
        assert bool(set(entry["outputs"]) & names) != (entry["function"] in ("ACOS", "ASIN"))
    assert rows == batch_rows(tmp_path, source, "--indicators", "all")
