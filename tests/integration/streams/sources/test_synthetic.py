"""The synthetic source publishes what it says it publishes, through the real broker, and
records each run as a job."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord

from marketpulse.errors import RecordTooLarge
from marketpulse.schemas.events import Frame
from marketpulse.settings import Settings
from marketpulse.storage.repositories.jobs import JobRepository
from marketpulse.streams.sources.synthetic import SyntheticMarket, SyntheticRun, run_synthetic
from tests.kafka_helpers import consume_until, unique

pytestmark = [pytest.mark.integration]

Records = list[ConsumerRecord[bytes, bytes]]


def _symbols(count: int) -> list[str]:
    return [unique("SYN").upper().replace("-", "") for _ in range(count)]


async def _published(settings: Settings, symbols: list[str], events: int) -> Records:
    keys = {s.encode() for s in symbols}

    def ours(records: Records) -> Records:
        return [r for r in records if r.key in keys]

    def count(records: Records) -> int:
        return sum(len(Frame.model_validate_json(r.value).events) for r in ours(records))

    records = ours(
        await consume_until(
            settings, [settings.topic("market.raw")], lambda rs: count(rs) >= events
        )
    )
    assert count(records) == events
    return records


async def _job_of(pool: asyncpg.Pool, symbols: list[str]) -> tuple[str, int, dict[str, int]]:
    jobs = JobRepository(pool)
    job = next(j for j in await jobs.recent(limit=500) if j.symbols == symbols)
    results = {r.symbol: r.records for r in await jobs.results(job.job_id)}
    return job.status, job.records_processed, results


async def test_paced_frames_arrive_keyed_by_symbol_and_the_run_is_a_job(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbols = _symbols(3)
    settings = services.model_copy(update={"topic_prefix": unique("syn") + "."})
    run = SyntheticRun(symbols, seed=11, rate=600, frame_size=10, duration_s=0.5)
    published = await run_synthetic(settings, run)
    assert published > 0
    records = await _published(settings, symbols, published)
    for record in records:
        frame = Frame.model_validate_json(record.value)
        assert {e.symbol for e in frame.events} == {record.key.decode()}
    status, total, per_symbol = await _job_of(pool, symbols)
    assert (status, total) == ("succeeded", published)
    assert set(per_symbol) == set(symbols)


async def test_worker_processes_share_the_symbols_and_report_to_one_job(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbols = _symbols(4)
    settings = services.model_copy(update={"topic_prefix": unique("syn") + "."})
    run = SyntheticRun(symbols, seed=3, rate=None, frame_size=50, events=2_000, workers=2)
    published = await run_synthetic(settings, run)
    assert published >= 2_000
    records = await _published(settings, symbols, published)
    status, total, per_symbol = await _job_of(pool, symbols)
    assert (status, total) == ("succeeded", published)
    assert sum(per_symbol.values()) == published
    # the same seed gives each symbol the same stream in one process as in a worker
    first = min((r for r in records if r.key == symbols[0].encode()), key=lambda r: r.offset)
    sent = Frame.model_validate_json(first.value)
    alone = SyntheticMarket([symbols[0]], seed=3)
    expected = alone.frame(symbols[0], sent.events[0].ts, sent.received_ts, 50)
    assert expected.events == sent.events


async def test_frames_over_the_record_limit_stop_the_run_with_a_clear_error(
    services: Settings, pool: asyncpg.Pool
) -> None:
    symbols = _symbols(1)
    settings = services.model_copy(
        update={"topic_prefix": unique("syn") + ".", "kafka_max_message_bytes": 64 << 10}
    )
    run = SyntheticRun(symbols, seed=3, rate=None, frame_size=2000, events=2000)
    with pytest.raises(RecordTooLarge, match=r"--frame-size"):
        await run_synthetic(settings, run)
    status, total, _ = await _job_of(pool, symbols)
    assert (status, total) == ("failed", 0)
