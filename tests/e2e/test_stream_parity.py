"""The stream equals the batch: one file through the broker and a worker, and through the batch
command, gives the same values; a restart in the middle changes nothing."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketpulse.cli import main
from marketpulse.files.long_csv import iso_utc
from marketpulse.settings import Settings
from marketpulse.streams.sources.replay import bar_records, publish
from tests.e2e.pipeline import Pipeline, decoded
from tests.unit.test_indicators_command import aapl_frame

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(services, tmp_path)
    yield p
    p.stop()


def batch_rows(tmp_path: Path, source: Path) -> list[tuple[str, str, str, str]]:
    out = tmp_path / "batch.csv"
    assert (
        main(["indicators", "--input", str(source), "--output", str(out), "--symbol", "AAPL"]) == 0
    )
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


def aapl_csv(tmp_path: Path) -> Path:
    source = tmp_path / "aapl.csv"
    aapl_frame().to_csv(source, index=False)
    return source


async def test_replayed_file_gives_the_batch_values(pipeline: Pipeline, tmp_path: Path) -> None:
    source = aapl_csv(tmp_path)
    records = bar_records(source, "AAPL", "1d")
    pipeline.start_worker()
    await publish(pipeline.settings, pipeline.settings.topic("market.bars.1d"), records)
    snapshots = decoded(await pipeline.read("analytics.indicators", len(records)))
    assert len(snapshots) == len(records)
    assert stream_rows(snapshots) == batch_rows(tmp_path, source)
    ready = snapshots[-1]["ready"]
    assert isinstance(ready, dict)
    assert all(ready.values())


async def test_restart_mid_replay_gives_identical_output(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source = aapl_csv(tmp_path)
    records = bar_records(source, "AAPL", "1d")
    topic = pipeline.settings.topic("market.bars.1d")
    first = pipeline.start_worker()
    await publish(pipeline.settings, topic, records[:40])
    await pipeline.read("analytics.indicators", 40)
    assert first.stop() == 0
    pipeline.start_worker()
    await publish(pipeline.settings, topic, records[40:])
    snapshots = decoded(await pipeline.read("analytics.indicators", len(records)))

    by_key: dict[str, dict[str, object]] = {}
    for snap in snapshots:
        key = f"{snap['symbol']}|{snap['granularity']}|{snap['bar_start']}"
        assert by_key.setdefault(key, snap) == snap, f"{key} published twice, differently"
    assert len(by_key) == len(records)
    assert stream_rows(list(by_key.values())) == batch_rows(tmp_path, source)
