"""Session bars, stream = batch: one file of trades on an exchange calendar through the broker
and a worker, and through `marketpulse bars`, gives the same bars; trades outside the sessions
are dead-lettered on the way; a restart in the middle changes nothing."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from marketpulse.cli import main
from marketpulse.files.bar_files import iso_local
from marketpulse.files.ohlcv import read_table
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import frame_records, publish
from tests.e2e.pipeline import Pipeline, decoded, one_partition

pytestmark = [pytest.mark.e2e]
NEW_YORK = ZoneInfo("America/New_York")
GRANULARITIES = ("1h", "1d")


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(
        services, tmp_path, '["1h", "1d"]', '["sma_3"]', MARKETPULSE_CALENDARS='{"AAPL": "NYSE"}'
    ) as p:
        yield p


def _trades(tmp_path: Path) -> tuple[Path, int]:
    """Trades every 20 s from a Thursday's pre-market to the next Monday evening (a weekend
    and the hours outside the sessions included), then a quote a day later that moves stream
    time past every bar; and how many trades fall outside the sessions."""
    rng = np.random.default_rng(9)
    times = pd.date_range("2023-11-16 10:00", "2023-11-20 22:00", freq="20s", tz="UTC")
    prices = np.round(180 * np.exp(np.cumsum(rng.normal(0, 0.0005, len(times)))), 4)
    frame = pd.DataFrame({"timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"), "price": prices,
                          "size": rng.integers(1, 20, len(times)) * 100})  # fmt: skip
    local = times.tz_convert(NEW_YORK)
    minutes = local.hour * 60 + local.minute
    inside = (local.day_of_week < 5) & (minutes >= 570) & (minutes < 960)
    source = tmp_path / "aapl.csv"
    frame.to_csv(source, index=False)
    return source, int((~inside).sum())


def _batch(tmp_path: Path, source: Path, granularity: str) -> list[tuple[str, ...]]:
    out = tmp_path / f"batch_{granularity}.csv"
    args = ["bars", "--input", str(source), "--output", str(out), "--granularity", granularity,
            "--symbol", "AAPL", "--calendar", "NYSE"]  # fmt: skip
    assert main(args) == 1  # the trades outside the sessions were skipped
    with out.open() as handle:
        return [tuple(row) for row in csv.reader(handle)][1:]


def _stream(bars: list[dict[str, object]]) -> list[tuple[str, ...]]:
    rows = []
    for bar in sorted(bars, key=lambda b: int(b["start"])):  # type: ignore[call-overload]
        prices = (bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"])
        rows.append((iso_local(int(bar["start"]), NEW_YORK), str(bar["symbol"]),  # type: ignore[call-overload]
                     str(bar["granularity"]), *(repr(float(p)) for p in prices)))  # type: ignore[arg-type]  # fmt: skip
    return rows


def _records(source: Path) -> list[tuple[int, str, object]]:
    records = frame_records(source, read_table(source), "AAPL", 50)
    last = records[-1][0]
    beyond = dt.datetime.fromtimestamp(last / 1e9, dt.UTC) + dt.timedelta(days=1)
    quote = pd.DataFrame({"timestamp": [beyond.strftime("%Y-%m-%dT%H:%M:%SZ")], "bid": [180.0],
                          "ask": [180.1], "bid_size": [100], "ask_size": [100]})  # fmt: skip
    path = source.with_name("quote.csv")
    quote.to_csv(path, index=False)
    return [*records, *frame_records(path, read_table(path), "AAPL", 50)]  # type: ignore[list-item]


async def test_the_stream_builds_the_batch_s_session_bars(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source, outside = _trades(tmp_path)
    expected = {g: _batch(tmp_path, source, g) for g in GRANULARITIES}
    assert [row[0] for row in expected["1d"]] == [
        "2023-11-16T09:30:00-05:00", "2023-11-17T09:30:00-05:00", "2023-11-20T09:30:00-05:00",
    ]  # fmt: skip
    pipeline.start_worker()
    await publish(pipeline.settings, _records(source))  # type: ignore[arg-type]
    for granularity, rows in expected.items():
        bars = decoded(await pipeline.read(f"market.bars.{granularity}", len(rows)))
        assert _stream(bars) == rows, granularity
        assert {(b["calendar"], b["session"] is not None) for b in bars} == {("NYSE", True)}
    letters = decoded(await pipeline.read("market.deadletter", outside))
    assert len(letters) == outside
    assert {d["reason"] for d in letters} == {"outside_session"}


async def test_a_restart_in_the_middle_changes_no_session_bar(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source, _ = _trades(tmp_path)
    expected = _batch(tmp_path, source, "1h")
    records = _records(source)
    half = len(records) // 2
    first = pipeline.start_worker()
    await publish(pipeline.settings, records[:half])  # type: ignore[arg-type]
    await pipeline.read("market.bars.1h", 5)
    assert first.stop() == 0
    pipeline.start_worker()
    await publish(pipeline.settings, records[half:])  # type: ignore[arg-type]
    bars = decoded(await pipeline.read("market.bars.1h", len(expected)))
    unique = {f"{b['start']}": b for b in bars}
    assert len(unique) == len(expected)
    assert _stream(list(unique.values())) == expected
