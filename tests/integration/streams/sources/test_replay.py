"""``marketpulse replay`` of a directory of files for several symbols: every bar on its topic in
event time, and the run recorded as a job."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import asyncpg
import pandas as pd
import pytest

from marketpulse.conditions import shipped
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame, Trade
from marketpulse.settings import Settings
from marketpulse.storage.repositories.jobs import JobRepository
from marketpulse.streams.sources.replay import replay
from tests.kafka_helpers import consume_until, unique

pytestmark = [pytest.mark.integration]


async def test_a_directory_replays_as_one_job(
    services: Settings, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    symbols = sorted(unique("R").upper().replace("-", "")[:9] for _ in range(2))
    days = pd.date_range("2024-01-01", periods=5, freq="D")
    for k, symbol in enumerate(symbols):
        pd.DataFrame(
            {"timestamp": days[k:].strftime("%Y-%m-%d"), "open": 1.0, "high": 2.0, "low": 0.5,
             "close": 1.5, "volume": 100}
        ).to_parquet(tmp_path / f"{symbol.lower()}.parquet")  # fmt: skip
    settings = services.model_copy(update={"topic_prefix": unique("replay") + "."})
    summary = await replay(settings, [tmp_path], None, "1d", speed=None)
    assert summary.startswith("published 9 messages (9 events or bars) of 2 symbols")
    records = await consume_until(
        settings, [settings.topic("market.bars.raw")], lambda rs: len(rs) >= 9
    )
    bars = [Bar.model_validate_json(r.value) for r in records]
    assert sorted((b.symbol, b.start) for b in bars) == sorted(
        (s, int(d.tz_localize("UTC").value)) for k, s in enumerate(symbols) for d in days[k:]
    )
    job_id = summary.rsplit("job ", 1)[1]
    job = await JobRepository(pool).get(UUID(job_id))
    assert job is not None
    assert (job.status, job.data_type, job.symbols, job.records_processed) == (
        "succeeded", "replay:market.bars.raw", symbols, 9,
    )  # fmt: skip


async def test_a_replay_marks_each_trade_by_its_conditions_as_the_live_source_does(
    services: Settings, tmp_path: Path
) -> None:
    symbol = unique("R").upper().replace("-", "")[:9]
    pd.DataFrame({
        "timestamp": ["2024-01-02T15:00:01Z", "2024-01-02T15:00:02Z", "2024-01-02T15:00:03Z"],
        "price": [10.0, 9.5, 10.1], "size": [100, 7, 100], "conditions": ["", "37", "15"],
    }).to_csv(tmp_path / f"{symbol.lower()}.csv", index=False)  # fmt: skip
    settings = services.model_copy(update={"topic_prefix": unique("replay") + "."})
    await replay(settings, [tmp_path], symbol, "1d", speed=None, conditions=shipped("polygon"))
    (record,) = await consume_until(
        settings, [settings.topic("market.raw")], lambda rs: len(rs) >= 1
    )
    frame = Frame.model_validate_json(record.value)
    assert [e.updates for e in frame.events if isinstance(e, Trade)] == [None, ["volume"], []]
